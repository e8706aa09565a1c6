"""Every kind of decision is a log record, a hook call, a metric (and a span where the
step is spanned), through real flows against the sandbox, in Starlette and Flask; and
none of them carries a token, a secret, a cookie or a session id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as
from tests.adapters import ADAPTERS as REGISTRY
from tests.adapters import adapter_named, post_body
from tests.browsing import access_claims, bearer, forged, mint
from tests.small_apps import Seen
from tests.webhooks.conftest import OTHER_SECRET, SECRET, make_delivery

from .conftest import Captured

#: Every adapter of the registry (:mod:`tests.adapters`), by name.
ADAPTERS = [adapter.name for adapter in REGISTRY]
POLICIES = {"admins": {"allowed_groups": ["admins"]}, "strong": {"mfa_required": True}}


@contextmanager
def client_for(adapter: str, config: AuthonomyConfig, seen: Seen | None = None) -> Iterator[Any]:
    """A client of the small test app of ``adapter`` (:mod:`tests.small_apps`) with
    ``config``; ``seen`` handles its webhook events."""
    with adapter_named(adapter).calling(config, seen=seen) as (client, _):
        yield client


def _origin(client: Any, config: AuthonomyConfig) -> str:
    """The app's own origin, as a browser on it sends with a form."""
    base_url = getattr(client, "base_url", None)
    return str(base_url).rstrip("/") if base_url is not None else str(config.app_url)


def _config(sb: Sandbox, captured: Captured, **overrides: Any) -> AuthonomyConfig:
    values: dict[str, Any] = {
        "on_event": captured.hook,
        "policies": POLICIES,
        "session_store": MemorySessionStore(),
        "webhook_secret": SECRET,
    }
    values.update(overrides)
    return sb.config(**values)


def _cookie(client: Any, name: str = "authonomy_session") -> str | None:
    if not hasattr(client, "get_cookie"):  # httpx-based: Starlette's, or over HTTP
        return client.cookies.get(name)
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def _secrets_of(config: AuthonomyConfig, client: Any) -> list[str | None]:
    """The api key, session secret, webhook secret, cookies, tokens and session ids."""
    found: list[str | None] = [config.api_key, *config.session_secrets, SECRET]
    cookie = _cookie(client)
    found.append(cookie)
    found.append(_cookie(client, "authonomy_login"))
    if cookie:
        record = config.session_store.load(cookie)
        if record is not None:
            tokens = record.tokens
            found += [record.id, tokens.access_token, tokens.refresh_token, tokens.id_token]
            found.append(record.claims.get("sid"))
    return found


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_is_started_completed_and_creates_a_session(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        login_as(client, "alice")
        secrets = _secrets_of(config, client)
    started = captured.expect("login.started")
    assert started.customer_id == "acme-corp"
    completed = captured.expect("login.completed", mfa=True)
    assert completed.user_id == "user_alice" and completed.duration is not None
    created = captured.expect("session.created")
    assert len(created.fields["session"]) == 12
    assert captured.finished("authonomy.login") and captured.finished("authonomy.callback")
    # The calls to Authonomy: client spans and the HTTP duration histogram.
    call = captured.expect("api.call", endpoint="/v1/auth/authorize", status=200, retries=0)
    assert call.duration is not None
    posts = captured.finished("POST")
    assert posts and posts[0].attributes["http.request.method"] == "POST"
    assert posts[0].attributes["url.full"].endswith("/v1/auth/authorize")
    assert posts[0].parent is not None  # inside the login or callback span
    durations = captured.points("http.client.request.duration")
    assert any(p.attributes.get("http.response.status_code") == 200 for p in durations)
    operations = captured.points("authonomy.operation.duration")
    assert {p.attributes["authonomy.operation"] for p in operations} >= {
        "authonomy.login",
        "authonomy.callback",
    }
    captured.assert_free_of(*secrets)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_refused_for_another_customer_is_login_failed(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured, customer_id=None, allowed_customers=["acme-corp"])
    with client_for(adapter, config) as client:
        answer = client.get("/auth/login?customer=globex-inc")
    assert answer.status_code == 400
    failed = captured.expect("login.failed", "customer_not_allowed")
    assert failed.fields["detail"]


def test_too_many_login_starts_are_login_failed(sb: Sandbox, captured: Captured) -> None:
    with client_for("flask", _config(sb, captured, login_rate_limit=1)) as client:
        assert client.get("/auth/login").status_code == 302
        assert client.get("/auth/login").status_code == 429
    failed = captured.expect("login.failed", "rate_limited")
    record = captured.records("login.failed")[-1]
    assert record.levelno == logging.WARNING
    # The client is named by a keyed hash, never by its address.
    assert len(failed.fields["client"]) == 12 and "client_ip" not in failed.fields
    assert "127.0.0.1" not in record.getMessage()
    assert "127.0.0.1" not in repr(dict(failed.fields))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_forged_callback_is_refused_with_its_reason(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        client.get("/auth/login")  # a login cookie, for another state
        answer = client.get(f"/auth/callback?state=forged&code=stolen&iss={sb.issuer}")
        missing = _cookie(client, "authonomy_login")
    assert answer.status_code == 400
    captured.expect("callback.refused", "unknown_state")
    captured.assert_free_of("stolen", missing)


def test_callback_without_its_login_cookie_is_refused(sb: Sandbox, captured: Captured) -> None:
    with client_for("flask", _config(sb, captured)) as client:
        answer = client.get("/auth/callback?state=abc&code=xyz")
    assert answer.status_code == 400
    captured.expect("callback.refused", "login_cookie_missing")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_bearer_tokens_accepted_once_then_repeats_counted_and_refused_with_reasons(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    good = mint(sb)
    expired = mint(sb, exp=int(sb.state.clock.now()) - 3600, iat=None, nbf=None)
    wrong_audience = mint(sb, aud="someone-else")
    fake = forged(sb)
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        assert client.get("/me", headers=bearer(good)).status_code == 200
        assert client.get("/me", headers=bearer(good)).status_code == 200
        for token in (expired, wrong_audience, fake):
            assert client.get("/me", headers=bearer(token)).status_code == 401
    # The hook and the log hear the first-seen token once; the repeat is only counted.
    (accepted,) = captured.events("token.accepted")
    assert [r.levelno for r in captured.records("token.accepted")] == [logging.INFO]
    captured.expect("token.accepted")
    assert accepted.user_id == "user_alice"
    assert captured.counted("token.accepted", "cached") == 1
    assert "cached" not in accepted.fields
    captured.expect("token.refused", "expired")
    captured.expect("token.refused", "wrong_audience")
    captured.expect("token.refused", "bad_signature")
    # The key set was fetched for the first token, inside its own span.
    fetched = captured.expect("keys.fetched")
    assert fetched.fields["keys"] >= 1
    (keys_span,) = captured.finished("authonomy.keys.fetch")
    assert [e.name for e in keys_span.events] == ["keys.fetched"]
    fetches = [s for s in captured.finished("GET") if s.parent is not None]
    assert any(s.parent.span_id == keys_span.context.span_id for s in fetches)
    captured.assert_free_of(config.api_key, good, expired, wrong_audience, fake)


def test_token_of_an_unknown_key_is_refused_as_unknown_key(sb: Sandbox, captured: Captured) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": "key_nobody_published", "typ": "at+jwt"}
    unknown = jwt.encode(access_claims(sb), key, algorithm="RS256", headers=headers)
    with client_for("flask", _config(sb, captured)) as client:
        assert client.get("/me", headers=bearer(unknown)).status_code == 401
    captured.expect("token.refused", "unknown_key")
    captured.assert_free_of(unknown)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_key_set_that_cannot_be_fetched_is_keys_failed(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    token = mint(sb)
    config = _config(sb, captured, http_timeout=2.0, max_retries=0)
    with client_for(adapter, config) as client, sb.down():
        assert client.get("/me", headers=bearer(token)).status_code == 503
    failed = captured.expect("keys.failed", "unavailable")
    assert "unreachable" in failed.fields["detail"]
    (span,) = captured.finished("authonomy.keys.fetch")
    assert "keys.failed" in [e.name for e in span.events]
    captured.expect("api.call", "unavailable")
    captured.assert_free_of(token)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_session_refreshed_refresh_failed_and_ended_by_logout(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    # A margin longer than a token's life: every request refreshes.
    config = _config(sb, captured, refresh_margin=7200)
    with client_for(adapter, config) as client:
        login_as(client, "alice")
        first_secrets = _secrets_of(config, client)
        sb.fail_next("POST", "/v1/auth/refresh", times=1)
        for _ in range(3):  # kept while Authonomy fails, then refreshed
            assert client.get("/me").status_code == 200
        second_secrets = _secrets_of(config, client)
        origin = {"origin": _origin(client, config), "sec-fetch-site": "same-origin"}
        assert client.post("/auth/logout", headers=origin).status_code == 303
    refreshed = captured.expect("session.refreshed")
    assert refreshed.user_id == "user_alice" and refreshed.duration is not None
    assert captured.finished("authonomy.refresh")
    failed = captured.expect("refresh.failed", "unavailable")
    assert failed.fields["session"] == refreshed.fields["session"]
    captured.expect("session.ended", "logout")
    captured.assert_free_of(*first_secrets, *second_secrets)


def test_expired_session_is_ended_as_expired(sb: Sandbox, captured: Captured) -> None:
    now = [1_000_000.0]
    config = _config(sb, captured, session_idle_timeout=600)
    with adapter_named("flask").calling(config, clock=lambda: now[0]) as (client, _):
        now[0] = __import__("time").time()
        login_as(client, "bob")
        now[0] += 601
        assert client.get("/me", headers={"accept": "application/json"}).status_code == 401
    captured.expect("session.ended", "expired")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_policy_passed_and_failed_with_its_conditions(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        assert client.get("/admins", headers=bearer(mint(sb))).status_code == 200
        bob = mint(sb, sub="user_bob", groups=["engineering"])
        assert client.get("/admins", headers=bearer(bob)).status_code == 403
    passed = captured.expect("policy.passed", policy="admins")
    assert passed.user_id == "user_alice"
    assert captured.records("policy.passed")[-1].levelno == logging.DEBUG
    failed = captured.expect("policy.failed", "allowed_groups", policy="admins")
    assert failed.fields["failed"] == ["allowed_groups"]
    assert failed.user_id == "user_bob"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_step_up_login_is_reported(sb: Sandbox, captured: Captured, adapter: str) -> None:
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        login_as(client, "bob")
        answer = client.get("/auth/login?step_up=strong&next=/admin")
    assert answer.status_code == 302
    step_up = captured.expect("step_up.started", policy="strong", mfa=True)
    assert step_up.user_id == "user_bob"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_webhooks_verified_duplicate_rejected_and_handler_failed(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured)
    good = make_delivery(event_id="evt_good")
    failing = make_delivery(event_id="evt_bad", event_type="customer.updated")
    fake = make_delivery(event_id="evt_fake", secret=OTHER_SECRET)

    def broken(event: Any) -> None:
        if event.type == "customer.updated":
            raise RuntimeError("database down")

    with client_for(adapter, config, seen=broken) as client:

        def post(delivery: Any) -> int:
            answer = post_body(client, "/webhooks/authonomy", delivery.body, delivery.headers)
            return int(answer.status_code)

        assert post(good) == 200
        assert post(good) == 200
        assert post(fake) == 400
        assert post(failing) == 500
    captured.expect("webhook.verified", webhook_id="evt_good", event_type="user.authenticated")
    captured.expect("webhook.duplicate", webhook_id="evt_good")
    captured.expect("webhook.rejected", "verification_failed")
    handler = captured.expect("webhook.handler_failed", "RuntimeError", webhook_id="evt_bad")
    assert "broken" in handler.fields["handler"]
    assert captured.records("webhook.handler_failed")[-1].exc_info is not None
    spans = captured.finished("authonomy.webhook")
    assert len(spans) == 4
    assert any(s.status.status_code.name == "UNSET" for s in spans)
    signatures = [d.headers["webhook-signature"] for d in (good, fake, failing)]
    captured.assert_free_of(SECRET, OTHER_SECRET, *signatures)


def test_a_hook_that_raises_is_logged_and_never_breaks_the_request(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(event: Any) -> None:
        raise ValueError("observer bug")

    with client_for("starlette", sb.config(on_event=hook)) as client:
        answer = client.get("/me", headers=bearer(mint(sb)))
    assert answer.status_code == 200
    errors = [r for r in caplog.records if r.name == "authonomy_integrations.events"]
    assert errors and errors[0].levelno == logging.ERROR and errors[0].exc_info


def test_an_async_app_calls_the_hook_on_its_event_loop(sb: Sandbox) -> None:
    import asyncio

    seen: list[tuple[str, bool]] = []

    def hook(event: Any) -> None:
        try:
            asyncio.get_running_loop()
            seen.append((event.name, True))
        except RuntimeError:
            seen.append((event.name, False))

    with client_for("starlette", sb.config(on_event=hook)) as client:
        client.get("/me", headers=bearer(mint(sb)))
    assert ("token.accepted", True) in seen


def test_without_hook_or_provider_nobody_listens(sb: Sandbox) -> None:
    from authonomy_integrations._runtime import AuthonomySync

    kit = AuthonomySync(sb.config())
    try:
        assert kit.engine.events.listening is False
        assert kit.engine.events.telemetry is None
    finally:
        kit.close()


def test_on_event_must_be_callable(sb: Sandbox) -> None:
    from authonomy_integrations._errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="on_event"):
        sb.config(on_event="print")


def test_api_client_calls_are_reported_with_their_retries(sb: Sandbox, captured: Captured) -> None:
    from authonomy_integrations import AuthonomyClient

    sb.fail_next("GET", "/v1/customers/acme-corp", times=1)
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
        assert client.customers.get("acme-corp")["id"] == "acme-corp"
    # No configuration, so no hook: the log and OpenTelemetry get the call.
    (record,) = captured.records("api.call")
    assert record.authonomy_fields["endpoint"] == "/v1/customers/acme-corp"
    assert (record.authonomy_fields["status"], record.authonomy_fields["retries"]) == (200, 1)
    assert record.authonomy_duration > 0
    assert captured.counted("api.call") == 1
    (span,) = captured.finished("GET")
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["url.full"] == f"{sb.api_base_url}/customers/acme-corp"
    points = captured.points("http.client.request.duration")
    assert [dict(p.attributes) for p in points] == [
        {
            "http.request.method": "GET",
            "server.address": "127.0.0.1",
            "http.response.status_code": 200,
        }
    ]
    captured.assert_free_of(sb.api_key)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_errors_from_the_callback_keep_metric_labels_bounded(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    config = _config(sb, captured)
    with client_for(adapter, config) as client:
        with httpx.Client() as browser:
            cancelled = hosted_login(
                browser, client.get("/auth/login").headers["location"], cancel=True
            )
        assert client.get(_path_and_query(cancelled)).status_code == 403
        with httpx.Client() as browser:
            signed = hosted_login(browser, client.get("/auth/login").headers["location"])
        state = dict(parse_qsl(urlsplit(signed).query))["state"]
        made_up = f"/auth/callback?state={state}&iss={sb.issuer}&error=zz_label_{id(client)}"
        assert client.get(made_up).status_code == 400
    captured.expect("login.failed", "access_denied")
    captured.expect("login.failed", "login_failed")
    labels = {
        dict(p.attributes).get("authonomy.reason") for p in captured.points("authonomy.events")
    }
    assert not any(label and label.startswith("zz_label") for label in labels)


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_repeat_tokens_are_counted_for_opentelemetry_without_a_hook_call_or_span_each(
    sb: Sandbox, captured: Captured, adapter: str
) -> None:
    good = mint(sb)
    with client_for(adapter, _config(sb, captured)) as client:
        for _ in range(6):
            assert client.get("/me", headers=bearer(good)).status_code == 200
        assert captured.counted("token.accepted", "cached") == 5
        assert client.get("/me", headers=bearer(good)).status_code == 200
    # Counts are running totals, read when metrics are collected.
    assert captured.counted("token.accepted", "cached") == 6
    assert captured.counted("token.accepted") == 7
    assert len(captured.events("token.accepted")) == 1
    span_events = [e.name for s in captured.spans.get_finished_spans() for e in s.events]
    assert span_events.count("token.accepted") <= 1
