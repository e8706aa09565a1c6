"""The Quart extension under what an ASGI server may hand it and a user may build around
it: cookies split over several ``Cookie`` headers (HTTP/2), an app served under a
``root_path``, ASGI middleware put on before the extension, and the test helpers with a
test client class an extension installed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart
from quart.testing import QuartClient
from werkzeug.datastructures import Headers

from authonomy_integrations.quart import Authonomy, current_user, login_required
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import alogin_as, asend_webhook, login_as, send_webhook

from ..webhooks.conftest import SECRET, make_delivery
from .test_extension import JSON, _app, _bearer, _config

ORIGIN = {"origin": "http://localhost"}


@pytest.fixture
async def app(sandbox: Sandbox) -> AsyncIterator[Quart]:
    made = _app(_config(sandbox))
    yield made
    await made.extensions["authonomy"].aclose()


async def _session_cookie(app: Quart) -> str:
    """A signed-in session's ``Cookie`` pair, the client's own jar emptied."""
    client = app.test_client()
    await alogin_as(client, "alice")
    assert client.cookie_jar is not None
    session = next(c.value for c in client.cookie_jar if c.name == "authonomy_session")
    return f"authonomy_session={session}"


# --- cookies split over several headers (HTTP/2, RFC 9113 section 8.2.3) ---------------------


async def test_a_session_cookie_in_a_second_cookie_header_serves_access_token(
    app: Quart,
) -> None:
    split = Headers([("cookie", "theme=dark"), ("cookie", await _session_cookie(app))])
    client = app.test_client()
    assert await (await client.get("/me", headers=split)).get_json() == {"user": "user_alice"}
    token = await (await client.get("/token", headers=split)).get_json()
    assert isinstance(token["token"], str) and token["token"]


async def test_logout_ends_a_session_whose_cookie_came_in_a_second_cookie_header(
    app: Quart,
) -> None:
    session = await _session_cookie(app)
    client = app.test_client()
    split = Headers([("cookie", "theme=dark"), ("cookie", session), *ORIGIN.items()])
    assert (await client.post("/auth/logout", headers=split)).status_code == 303
    # The stolen or kept cookie is worth nothing once its user signed out.
    replayed = await client.get("/me", headers={"cookie": session})
    assert await replayed.get_json() == {"user": None}


# --- an app served under a prefix (``root_path``) --------------------------------------------


@pytest.mark.parametrize("root_path", ["", "/shop"])
async def test_a_webhook_under_a_root_path_is_not_refused_for_a_stray_authorization_header(
    sandbox: Sandbox, root_path: str
) -> None:
    app = _app(_config(sandbox, webhook_secret=SECRET))
    delivery = make_delivery()
    headers = {**delivery.headers, "authorization": "Bearer not-a-token"}
    path = root_path + app.extensions["authonomy"].config.webhook_path
    client = app.test_client()
    answer = await client.post(path, data=delivery.body, headers=headers, root_path=root_path)
    assert answer.status_code == 200
    assert (await answer.get_json())["data"]["id"] == "evt_1"
    # Elsewhere under the prefix the same header is refused.
    refused = await client.get(f"{root_path}/me", headers=headers, root_path=root_path)
    assert refused.status_code == 401
    await app.extensions["authonomy"].aclose()


# --- the test helpers with a test client class of an extension's ------------------------------


class _ExtensionClient(QuartClient):
    """A test client built on Quart's, as extensions install through
    ``app.test_client_class``."""


def test_login_as_and_send_webhook_drive_a_client_built_on_quarts(sandbox: Sandbox) -> None:
    seen: list[str] = []
    app = _app(_config(sandbox), seen)
    app.test_client_class = _ExtensionClient
    client = app.test_client()
    assert login_as(client, "alice", next_path="/profile") == "/profile"
    assert asyncio.run(client.get("/profile")).status_code == 200
    response = send_webhook(client, "user.authenticated", {"user": {"id": "user_alice"}})
    assert response.status_code == 200 and len(seen) == 1
    asyncio.run(app.extensions["authonomy"].aclose())


async def test_asend_webhook_drives_a_client_built_on_quarts(sandbox: Sandbox) -> None:
    seen: list[str] = []
    app = _app(_config(sandbox), seen)
    app.test_client_class = _ExtensionClient
    client = app.test_client()
    assert await alogin_as(client, "bob") == "/"
    response = await asend_webhook(client, "user.authenticated", {"user": {"id": "user_bob"}})
    assert response.status_code == 200 and len(seen) == 1
    await app.extensions["authonomy"].aclose()


# --- ASGI middleware the app put on before the extension -------------------------------------


async def test_signed_in_callers_pass_a_proxy_fix_installed_before_the_extension(
    sandbox: Sandbox,
) -> None:
    # Hypercorn's ProxyFixMiddleware, as Quart's deployment docs put it on, deep-copies
    # the scope the user rides in.
    app = Quart(__name__)
    app.asgi_app = ProxyFixMiddleware(app.asgi_app, mode="legacy")  # type: ignore[method-assign]
    Authonomy(app, config=_config(sandbox))

    @app.get("/me")
    @login_required
    async def me() -> dict[str, str]:
        return {"user": current_user.id}

    client = app.test_client()
    forwarded = {"x-forwarded-for": "203.0.113.7", **JSON}
    bearer = await client.get("/me", headers={**_bearer(sandbox, "bob"), **forwarded})
    assert (bearer.status_code, await bearer.get_json()) == (200, {"user": "user_bob"})
    await alogin_as(client, "alice")
    session = await client.get("/me", headers=forwarded)
    assert (session.status_code, await session.get_json()) == (200, {"user": "user_alice"})
    await app.extensions["authonomy"].aclose()


# --- the app's own error handlers --------------------------------------------------------------


async def test_the_apps_error_handlers_neither_swallow_nor_pass_a_refusal(
    sandbox: Sandbox,
) -> None:
    app = _app(_config(sandbox))
    for status in (401, 403, 500):
        app.register_error_handler(status, lambda error: ({"handled": True}, 200))
    client = app.test_client()
    cases = [
        ("/profile", JSON, 401, "UNAUTHENTICATED"),
        ("/me", {"authorization": "Bearer not.a.token", **JSON}, 401, "UNAUTHENTICATED"),
        ("/admins", _bearer(sandbox, "bob", groups=["engineering"]), 403, "POLICY_VIOLATED"),
    ]
    for path, headers, status, code in cases:
        refused = await client.get(path, headers=headers)
        assert refused.status_code == status
        assert (await refused.get_json())["error"]["code"] == code
    await app.extensions["authonomy"].aclose()


# --- two apps, two configurations, one process ---------------------------------------------


async def test_two_apps_side_by_side_keep_their_callers_apart(sandbox: Sandbox) -> None:
    first = _app(_config(sandbox))
    other = _config(sandbox, audience="other_app", customer_id="globex")
    second = _app(other)
    token = _bearer(sandbox, "alice")
    assert (await first.test_client().get("/me", headers=token)).status_code == 200
    refused = await second.test_client().get("/me", headers=token)
    assert refused.status_code == 401  # the token was issued for the first app's audience
    session = await _session_cookie(first)
    stranger = await second.test_client().get("/me", headers={"cookie": session, **JSON})
    assert await stranger.get_json() == {"user": None}
    for app in (first, second):
        await app.extensions["authonomy"].aclose()


async def test_a_webhook_sent_with_an_absolute_form_target_is_handled(sandbox: Sandbox) -> None:
    # ``POST http://localhost/webhooks/authonomy HTTP/1.1``: Hypercorn passes the target on
    # as the path, and Quart routes it by its path part.
    app = _app(_config(sandbox, webhook_secret=SECRET))
    delivery = make_delivery()
    headers = {**delivery.headers, "authorization": "Bearer not-a-token"}
    path = "http://localhost" + app.extensions["authonomy"].config.webhook_path
    status, body = await _raw_post(app, path, headers, delivery.body)
    assert status == 200 and b'"evt_1"' in body
    await app.extensions["authonomy"].aclose()


async def _raw_post(
    app: Quart, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """``POST`` straight through the app's ASGI interface, ``path`` as the server gave it."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
