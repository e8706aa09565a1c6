"""``webhook_view(receiver)`` through Django: CSRF-exempt, raw body, blocking and async
handlers, replays, bad signatures and oversized bodies, under WSGI and ASGI clients."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import AsyncClient, Client

from authonomy_integrations._runtime import AuthonomyAsync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import sign
from tests.browsing import bearer, mint
from tests.webhooks.conftest import event_body

from . import receivers
from .helpers import (
    WEBHOOK_SECRET,
    app_config,
    close,
    django_async_client,
    django_client,
    runtime_of,
)

OTHER_SECRET = "whsec_b3RoZXItb3RoZXItb3RoZXItb3RoZXI="


def _delivery(
    secret: str = WEBHOOK_SECRET, body: bytes | None = None
) -> tuple[str, bytes, dict[str, str]]:
    event_id = f"evt_{uuid.uuid4().hex}"
    raw = event_body(event_id) if body is None else body
    headers = sign(secret, event_id, int(time.time()), raw)
    return event_id, raw, headers


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    # Django's CSRF check on: the webhook view must be exempt from it.
    client = django_client(app_config(sandbox), enforce_csrf_checks=True)
    yield client
    close(client.handler)


@pytest.fixture
async def aclient(sandbox: Sandbox) -> Any:
    client = django_async_client(app_config(sandbox), enforce_csrf_checks=True)
    yield client
    runtime = runtime_of(client.handler)
    assert isinstance(runtime, AuthonomyAsync)
    await runtime.aclose()


def _post(client: Client, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", ["/hooks/blocking", "/hooks/async"])
def test_signed_delivery_runs_its_handler_once(client: Client, path: str) -> None:
    event_id, body, headers = _delivery()
    first = _post(client, path, body, headers)
    again = _post(client, path, body, headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["id"] == event_id
    assert again.json()["data"]["duplicate"] is True
    assert receivers.HANDLED.count(event_id) == 1


@pytest.mark.parametrize("path", ["/hooks/blocking", "/hooks/async"])
async def test_signed_delivery_on_the_async_stack(aclient: AsyncClient, path: str) -> None:
    event_id, body, headers = _delivery()
    response = await aclient.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    assert receivers.HANDLED.count(event_id) == 1


def test_delivery_signed_with_another_secret_is_refused(client: Client) -> None:
    event_id, body, headers = _delivery(secret=OTHER_SECRET)
    response = _post(client, "/hooks/blocking", body, headers)
    assert response.status_code == 400
    assert event_id not in receivers.HANDLED


def test_body_changed_after_signing_is_refused(client: Client) -> None:
    event_id, body, headers = _delivery()
    response = _post(client, "/hooks/blocking", body.replace(b"acme", b"evil"), headers)
    assert response.status_code == 400
    assert event_id not in receivers.HANDLED


def test_oversized_body_is_refused_with_413(client: Client) -> None:
    event_id, body, headers = _delivery(body=b'{"pad": "' + b"x" * (1024 * 1024 + 1) + b'"}')
    response = _post(client, "/hooks/blocking", body, headers)
    assert response.status_code == 413
    assert event_id not in receivers.HANDLED


def test_webhook_view_answers_only_post(client: Client) -> None:
    response = client.get("/hooks/blocking")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_stray_authorization_header_does_not_refuse_a_delivery(client: Client) -> None:
    # The example mounts its view at the configured webhook path, which the middleware
    # leaves unauthenticated: a delivery is judged by its signature alone.
    _, body, headers = _delivery()
    response = _post(
        client, "/webhooks/authonomy", body, {**headers, "Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 200


def _session_revoked() -> tuple[bytes, dict[str, str]]:
    """A signed ``session.revoked`` delivery about Authonomy session ``sess_789``."""
    event_id = f"evt_{uuid.uuid4().hex}"
    body = event_body(event_id, "session.revoked")
    return body, sign(WEBHOOK_SECRET, event_id, int(time.time()), body)


@pytest.mark.parametrize("path", ["/hooks/blocking", "/hooks/async"])
def test_back_channel_logout_refuses_the_sessions_tokens(
    client: Client, sandbox: Sandbox, path: str
) -> None:
    token, other = mint(sandbox, sid="sess_789"), mint(sandbox, sid="sess_other")
    assert client.get("/whoami", headers=bearer(token)).status_code == 200
    body, headers = _session_revoked()
    assert _post(client, path, body, headers).status_code == 200
    assert client.get("/whoami", headers=bearer(token)).status_code == 401
    assert client.get("/whoami", headers=bearer(other)).status_code == 200


@pytest.mark.parametrize("path", ["/hooks/blocking", "/hooks/async"])
async def test_back_channel_logout_on_the_async_stack(
    aclient: AsyncClient, sandbox: Sandbox, path: str
) -> None:
    token = mint(sandbox, sid="sess_789")
    assert (await aclient.get("/whoami", headers=bearer(token))).status_code == 200
    body, headers = _session_revoked()
    response = await aclient.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    assert (await aclient.get("/whoami", headers=bearer(token))).status_code == 401
