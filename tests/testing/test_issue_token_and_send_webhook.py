"""``Sandbox.issue_token`` and ``send_webhook`` as users' tests use them, with every test
client of every adapter: the app accepts the token as the signed-in user's, verifies the
delivery and acts on it, and refuses one signed with another secret."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from django.test.utils import override_settings
from litestar.testing import AsyncTestClient as LitestarAsyncTestClient
from litestar.testing import TestClient as LitestarTestClient
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import asend_webhook, send_webhook
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.litestar_app import create_app as create_litestar_app
from examples.quart_app.app import create_app as create_quart_app

from ..adapters import ADAPTER_NAMES as ADAPTERS
from ..django.helpers import (
    WEBHOOK_SECRET,
    close,
    create_app,
    django_async_client,
    django_client,
    runtime_of,
)

OTHER_SECRET = "whsec_" + base64.b64encode(b"not-the-apps-webhook-secret-0123").decode()
#: The Django test URLconf's webhook route, behind the middleware (tests/django/urls.py).
DJANGO_HOOK = "/hooks/blocking"


@dataclass
class Harness:
    """One test client of one adapter, blocking or async, driven the same way."""

    client: Any
    is_async: bool
    #: The app's webhook secret, when send_webhook cannot find it through the client.
    secret: str | None
    path: str | None

    def _run(self, call: Any) -> Any:
        # Quart's client is async even where the helpers under test are the blocking ones.
        return asyncio.run(call) if self.is_async or inspect.iscoroutine(call) else call

    def me(self, token: str) -> tuple[int, Any]:
        """``GET /api/me`` with ``token``: the status and the JSON body."""
        response = self._run(
            self.client.get("/api/me", headers={"authorization": f"Bearer {token}"})
        )
        body = getattr(response, "content", None)
        if body is None:  # Flask's response, or Quart's (whose body is awaited)
            body = response.data
            body = asyncio.run(body) if inspect.isawaitable(body) else body
        return response.status_code, json.loads(body) if response.status_code == 200 else None

    def deliver(self, event_type: str, data: dict[str, Any], **options: Any) -> int:
        """The app's status for a delivery made by the helper under test."""
        options.setdefault("secret", self.secret)
        options.setdefault("path", self.path)
        if self.is_async:
            response = asyncio.run(asend_webhook(self.client, event_type, data, **options))
        else:
            response = send_webhook(self.client, event_type, data, **options)
        return int(response.status_code)


#: Every test client, by the adapter it serves.
CLIENTS = {
    "starlette": ["TestClient", "httpx.AsyncClient"],
    "flask": ["test_client", "httpx.Client"],
    "django-wsgi": ["Client", "APIClient", "httpx.Client"],
    "django-asgi": ["AsyncClient", "httpx.AsyncClient"],
    # Quart's client is async: the async helpers, and the blocking ones outside a loop.
    "quart": ["test_client", "test_client-blocking"],
    "litestar": ["TestClient", "TestClient without with", "AsyncTestClient"],
}
assert sorted(CLIENTS) == sorted(ADAPTERS), "every adapter of the registry has its clients"
CASES = [(adapter, kind) for adapter in ADAPTERS for kind in CLIENTS[adapter]]


@contextmanager
def _starlette(config: AuthonomyConfig, kind: str) -> Iterator[Harness]:
    app = create_fastapi_app(config)
    if kind == "TestClient":
        with TestClient(app) as client:
            yield Harness(client, False, None, None)
        return
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://localhost")
    yield Harness(client, True, config.webhook_secrets[0], None)
    asyncio.run(client.aclose())


@contextmanager
def _flask(config: AuthonomyConfig, kind: str) -> Iterator[Harness]:
    app = create_flask_app(config)
    if kind == "test_client":
        yield Harness(app.test_client(), False, None, None)
    else:
        transport = httpx.WSGITransport(app=app)
        with httpx.Client(transport=transport, base_url="http://localhost") as client:
            yield Harness(client, False, config.webhook_secrets[0], None)
    app.extensions["authonomy"].close()


@contextmanager
def _django(config: AuthonomyConfig, kind: str) -> Iterator[Harness]:
    if kind in ("Client", "APIClient"):
        from django.test import Client
        from rest_framework.test import APIClient  # once the helpers configured Django

        client = django_client(config, client_class=APIClient if kind == "APIClient" else Client)
        yield Harness(client, False, WEBHOOK_SECRET, DJANGO_HOOK)
        close(client.handler)
    elif kind == "AsyncClient":
        aclient = django_async_client(config)
        yield Harness(aclient, True, WEBHOOK_SECRET, DJANGO_HOOK)
        asyncio.run(runtime_of(aclient.handler).aclose())  # type: ignore[union-attr]
    elif kind == "httpx.Client":
        handler = create_app(config)
        transport = httpx.WSGITransport(app=handler)
        with httpx.Client(transport=transport, base_url="http://localhost") as sync_client:
            yield Harness(sync_client, False, WEBHOOK_SECRET, DJANGO_HOOK)
        close(handler)
    else:
        handler = create_app(config, asgi=True)
        atransport = httpx.ASGITransport(app=handler)  # type: ignore[arg-type]
        async_client = httpx.AsyncClient(transport=atransport, base_url="http://localhost")
        yield Harness(async_client, True, WEBHOOK_SECRET, DJANGO_HOOK)
        asyncio.run(async_client.aclose())


@contextmanager
def _quart(config: AuthonomyConfig, kind: str) -> Iterator[Harness]:
    app = create_quart_app(config)
    yield Harness(app.test_client(), kind == "test_client", None, None)
    asyncio.run(app.extensions["authonomy"].aclose())


@contextmanager
def _litestar(config: AuthonomyConfig, kind: str) -> Iterator[Harness]:
    app = create_litestar_app(config)
    if kind == "TestClient":
        with LitestarTestClient(app) as client:
            yield Harness(client, False, None, None)
    elif kind == "TestClient without with":
        yield Harness(LitestarTestClient(app), False, None, None)
    else:  # each call on an event loop of its own, so not inside ``async with``
        yield Harness(LitestarAsyncTestClient(app), True, None, None)


MAKERS: dict[str, Callable[[AuthonomyConfig, str], Any]] = {
    "starlette": _starlette,
    "flask": _flask,
    "django-wsgi": _django,
    "django-asgi": _django,
    "quart": _quart,
    "litestar": _litestar,
}


@pytest.fixture(params=CASES, ids=[f"{adapter}-{kind}" for adapter, kind in CASES])
def harness(request: pytest.FixtureRequest, authonomy_sandbox: Sandbox) -> Iterator[Harness]:
    adapter, kind = request.param
    config = authonomy_sandbox.config(app_url="http://localhost")
    if adapter.startswith("django"):
        config = config.replace(webhook_secret=WEBHOOK_SECRET)  # the test URLconf's receivers
    with MAKERS[adapter](config, kind) as made:
        yield made


def _revoked(token: str) -> dict[str, Any]:
    """A ``session.revoked`` event's data for the session ``token`` belongs to."""
    claims = jwt.decode(token, options={"verify_signature": False})
    user = {"id": claims["sub"], "email": claims["email"], "customer_id": claims["customer_id"]}
    return {"user": user, "session": {"id": claims["sid"]}, "reason": "admin"}


def test_an_issued_token_is_the_users_bearer_token(
    harness: Harness, authonomy_sandbox: Sandbox
) -> None:
    token = authonomy_sandbox.issue_token("bob", groups=["support", "engineering"])
    status, me = harness.me(token)
    assert status == 200
    assert me["id"] == "user_bob" and me["groups"] == ["engineering", "support"]


def test_a_signed_session_revoked_delivery_ends_the_issued_tokens_session(
    harness: Harness, authonomy_sandbox: Sandbox
) -> None:
    token = authonomy_sandbox.issue_token("alice")
    assert harness.me(token)[0] == 200
    assert harness.deliver("session.revoked", _revoked(token)) == 200
    assert harness.me(token)[0] == 401


def test_a_delivery_signed_with_another_secret_is_refused_and_changes_nothing(
    harness: Harness, authonomy_sandbox: Sandbox
) -> None:
    token = authonomy_sandbox.issue_token("alice")
    assert harness.deliver("session.revoked", _revoked(token), secret=OTHER_SECRET) == 400
    assert harness.me(token)[0] == 200


def test_send_webhook_finds_the_secret_and_path_of_a_starlette_flask_or_litestar_app(
    authonomy_sandbox: Sandbox,
) -> None:
    config = authonomy_sandbox.config(app_url="http://localhost")
    data = {"user": {"id": "user_bob"}, "session": {"id": "sess_1"}}
    with TestClient(create_fastapi_app(config)) as client:
        assert send_webhook(client, "user.authenticated", data).status_code == 200
    app = create_flask_app(config.replace(webhook_path="/hooks/in"))
    assert send_webhook(app.test_client(), "user.authenticated", data).status_code == 200
    app.extensions["authonomy"].close()
    with LitestarTestClient(create_litestar_app(config.replace(webhook_path="/in"))) as ls:
        assert send_webhook(ls, "user.authenticated", data).status_code == 200


def test_send_webhook_reads_the_secret_of_django_settings(authonomy_sandbox: Sandbox) -> None:
    config = authonomy_sandbox.config(app_url="http://localhost", webhook_secret=WEBHOOK_SECRET)
    client = django_client(config)
    data = {"user": {"id": "user_bob"}}
    with override_settings(AUTHONOMY_CONFIG=config):
        assert send_webhook(client, "user.authenticated", data, path=DJANGO_HOOK).status_code == 200
    close(client.handler)


def test_send_webhook_takes_the_secret_from_the_environment_else_asks_for_it(
    authonomy_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = authonomy_sandbox.config(app_url="http://localhost")
    app = create_flask_app(config)
    monkeypatch.delenv("AUTHONOMY_WEBHOOK_SECRET", raising=False)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://x") as client:
        with pytest.raises(ValueError, match="pass secret="):
            send_webhook(client, "user.authenticated", {})
        monkeypatch.setenv("AUTHONOMY_WEBHOOK_SECRET", config.webhook_secrets[0])
        assert send_webhook(client, "user.authenticated", {"user": {"id": "u"}}).status_code == 200
    app.extensions["authonomy"].close()


def test_send_webhook_points_async_clients_to_asend_webhook() -> None:
    with pytest.raises(TypeError, match="asend_webhook"):
        send_webhook(httpx.AsyncClient(), "user.authenticated", {})


def test_send_webhook_explains_arguments_it_cannot_send() -> None:
    with httpx.Client() as client, pytest.raises(TypeError, match="the event's data dict"):
        send_webhook(client, "user.authenticated", ["not", "a", "dict"], secret="s")  # type: ignore[arg-type]


def test_issue_token_overrides_what_the_user_signed_in_with(authonomy_sandbox: Sandbox) -> None:
    token = authonomy_sandbox.issue_token(
        "bob", scopes=["openid", "reports:read"], mfa=True, ttl=90, customer_id="globex"
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["scope"] == "openid reports:read" and claims["amr"] == ["pwd", "mfa"]
    assert claims["exp"] - claims["iat"] == 90 and claims["customer_id"] == "globex"


def test_an_issued_token_of_a_customer_the_app_does_not_allow_is_refused(
    authonomy_sandbox: Sandbox,
) -> None:
    config = authonomy_sandbox.config(app_url="http://localhost", allowed_customers=["acme-corp"])
    with TestClient(create_fastapi_app(config)) as client:
        for customer, status in (("acme-corp", 200), ("globex", 401)):
            token = authonomy_sandbox.issue_token("bob", customer_id=customer)
            response = client.get("/api/me", headers={"authorization": f"Bearer {token}"})
            assert response.status_code == status, customer


def test_an_issued_token_meets_the_mfa_policy_only_with_mfa(authonomy_sandbox: Sandbox) -> None:
    config = authonomy_sandbox.config(app_url="http://localhost")
    with TestClient(create_fastapi_app(config)) as client:
        for mfa, status in ((False, 403), (True, 200)):
            token = authonomy_sandbox.issue_token("bob", mfa=mfa)
            headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
            assert client.get("/admin", headers=headers).status_code == status, mfa


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"user": "mallory"}, "no user 'mallory' in the sandbox"),
        ({"customer_id": "nowhere"}, "no customer 'nowhere' in the sandbox"),
        ({"ttl": 0}, "ttl must be a positive number of seconds"),
        ({"groups": "admins"}, "groups must be a list of strings"),
    ],
)
def test_issue_token_explains_what_it_cannot_issue(
    authonomy_sandbox: Sandbox, options: dict[str, Any], error: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        authonomy_sandbox.issue_token(**options)
