"""Webhook deliveries: Standard Webhooks signatures, real events, retries, the log."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from authonomy_integrations.sandbox import Delivery, Sandbox

from .helpers import sign_in
from .receiver import Receiver, receiving

SECRET = "whsec_" + base64.b64encode(b"sandbox-webhook-test-secret-0123").decode()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A threaded HTTP receiver recording every delivery."""
    with receiving() as state:
        yield state


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox retrying failed deliveries after a few milliseconds."""
    with Sandbox(webhook_retry_schedule=(0.01, 0.02, 0.03, 0.04, 0.05)) as sandbox:
        yield sandbox


def _subscribe(client: httpx.Client, url: str, events: list[str], secret: str = SECRET) -> str:
    response = client.post("/webhooks", json={"url": url, "events": events, "secret": secret})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def _to(url: str, **conditions: Any) -> Any:
    def matches(delivery: Delivery) -> bool:
        return delivery.url == url and all(
            getattr(delivery, name) == value for name, value in conditions.items()
        )

    return lambda deliveries: any(matches(d) for d in deliveries)


def _bodies(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received if r.path == path]


def test_login_delivers_user_authenticated_signed_per_standard_webhooks(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/login")
    _subscribe(client, url, ["user.authenticated"])
    sign_in(client, "bob")
    sb.wait_for_deliveries(_to(url, attempt=1))
    [request] = [r for r in receiver.received if r.path == "/login"]
    payload = StandardWebhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "user.authenticated"
    assert payload["id"] == request.headers["webhook-id"]
    assert payload["id"].startswith("evt_")
    assert payload["data"]["user"] == {
        "id": "user_bob",
        "email": "bob@acme-corp.com",
        "name": "Bob Brown",
        "customer_id": "acme-corp",
    }
    assert payload["data"]["session"]["id"].startswith("sess_")


def test_signature_does_not_verify_with_another_secret(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/other-secret")
    _subscribe(client, url, ["customer.created"])
    client.post("/customers", json={"name": "Signed Co"})
    sb.wait_for_deliveries(_to(url))
    [request] = [r for r in receiver.received if r.path == "/other-secret"]
    wrong = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(wrong).verify(request.body, request.headers)


def test_plain_secret_signs_with_its_utf8_bytes(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/plain")
    _subscribe(client, url, ["policy.created"], secret="plain-text-secret")
    client.post("/policies", json={"name": "signed-policy", "conditions": {}})
    sb.wait_for_deliveries(_to(url))
    [request] = [r for r in receiver.received if r.path == "/plain"]
    payload = StandardWebhook(b"plain-text-secret").verify(request.body, request.headers)
    assert payload["data"]["policy"]["name"] == "signed-policy"


def test_management_writes_emit_their_events(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/management")
    events = ["customer.created", "customer.updated", "idp.configured", "policy.created"]
    _subscribe(client, url, [*events, "policy.updated"])
    client.post("/customers", json={"id": "evented", "name": "Evented"})
    client.put("/customers/evented", json={"name": "Evented 2"})
    client.post("/customers/evented/idp", json={"type": "okta", "client_secret": "hidden"})
    policy = client.post("/policies", json={"name": "evented", "conditions": {}}).json()["data"]
    client.put(f"/policies/{policy['id']}", json={"description": "now described"})
    sb.wait_for_deliveries(lambda ds: sum(d.url == url for d in ds) == 5)
    bodies = _bodies(receiver, "/management")
    assert sorted(b["type"] for b in bodies) == sorted([*events, "policy.updated"])
    assert all("hidden" not in json.dumps(b) for b in bodies)


def test_logout_and_reuse_detection_emit_their_events(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/sessions")
    _subscribe(client, url, ["user.logged_out", "session.revoked"])
    _, tokens = sign_in(client, "bob")
    client.request("DELETE", "/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    _, other = sign_in(client, "bob")
    client.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    sb.advance_clock(11)
    client.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    sb.wait_for_deliveries(lambda ds: sum(d.url == url for d in ds) == 2)
    types = [b["type"] for b in _bodies(receiver, "/sessions")]
    assert sorted(types) == ["session.revoked", "user.logged_out"]


def test_failed_delivery_is_retried_until_a_2xx(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/flaky")
    receiver.failures["/flaky"] = 2
    _subscribe(client, url, ["customer.created"])
    client.post("/customers", json={"name": "Flaky Co"})
    deliveries = sb.wait_for_deliveries(_to(url, attempt=3))
    attempts = [(d.attempt, d.status_code, d.ok) for d in deliveries if d.url == url]
    assert attempts == [(1, 500, False), (2, 500, False), (3, 204, True)]
    ids = {r.headers["webhook-id"] for r in receiver.received if r.path == "/flaky"}
    assert len(ids) == 1


def test_delivery_gives_up_after_the_retry_schedule(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/down")
    receiver.failures["/down"] = 100
    _subscribe(client, url, ["customer.created"])
    client.post("/customers", json={"name": "Down Co"})
    sb.wait_for_deliveries(_to(url, attempt=6))
    with pytest.raises(TimeoutError):
        sb.wait_for_deliveries(_to(url, attempt=7), timeout=0.3)


def test_unreachable_receiver_is_logged_with_an_error(sb: Sandbox, client: httpx.Client) -> None:
    url = "http://127.0.0.1:9/unreachable"
    _subscribe(client, url, ["customer.created"])
    client.post("/customers", json={"name": "Unreachable Co"})
    [delivery, *_] = [d for d in sb.wait_for_deliveries(_to(url)) if d.url == url]
    assert delivery.status_code is None and delivery.error


def test_unsubscribed_and_deleted_webhooks_get_nothing(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    quiet = receiver.on("/quiet")
    deleted = receiver.on("/deleted")
    marker = receiver.on("/marker")
    _subscribe(client, quiet, ["user.logged_out"])
    client.delete(f"/webhooks/{_subscribe(client, deleted, ['customer.created'])}")
    _subscribe(client, marker, ["customer.created"])
    client.post("/customers", json={"name": "Quiet Co"})
    sb.wait_for_deliveries(_to(marker))
    assert not any(d.url in (quiet, deleted) for d in sb.deliveries)


def test_sign_in_without_mfa_reports_the_customers_mfa_policy_violated(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.on("/violations")
    _subscribe(client, url, ["policy.violated", "user.authenticated"])
    sign_in(client, "alice")  # MFA enrolled: meets require-mfa
    sign_in(client, "bob")  # no MFA: acme-corp's require-mfa is violated
    sb.wait_for_deliveries(lambda log: sum(d.url == url and d.ok for d in log) >= 3)
    bodies = _bodies(receiver, "/violations")
    violations = [b for b in bodies if b["type"] == "policy.violated"]
    assert len(violations) == 1
    data = violations[0]["data"]
    assert data["user"]["id"] == "user_bob"
    assert data["policy"]["name"] == "require-mfa"
    assert data["reason"] == "multi-factor authentication required"
    assert data["request"]["path"] == "/v1/auth/token"
