"""The Quart extension as a Quart user sees it, through Quart's own test client: set-up,
guards on plain and async views, ``current_user`` on HTTP and WebSocket routes, the
kit's routes, webhooks, and the test helpers with and without ``async with``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart, websocket
from quart.testing import QuartClient
from quart.testing.connections import WebsocketDisconnectError

from authonomy_integrations import AuthonomyConfig, ConfigurationError
from authonomy_integrations.quart import (
    Authonomy,
    access_token,
    current_user,
    login_required,
    require_groups,
    require_policy,
    require_scopes,
)
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import alogin_as, asend_webhook, login_as, send_webhook
from authonomy_integrations.webhooks import WebhookEvent

JSON = {"accept": "application/json"}
HTML = {"accept": "text/html"}


def _config(sandbox: Sandbox, **overrides: Any) -> AuthonomyConfig:
    return sandbox.config(app_url="http://localhost", **overrides)


def _app(config: AuthonomyConfig, seen: list[str] | None = None) -> Quart:
    app = Quart(__name__)
    authonomy = Authonomy(app, config=config)
    if config.webhook_secrets:

        @authonomy.webhooks.on("user.authenticated")
        async def on_login(event: WebhookEvent) -> None:
            (seen if seen is not None else []).append(event.id)

    @app.get("/me")
    async def me() -> Any:
        return {"user": current_user.id if current_user.is_authenticated else None}

    @app.get("/profile")
    @login_required
    def profile() -> Any:  # a plain view: Quart runs it in a thread, the guard too
        return {"user": current_user.id}

    @app.get("/admins")
    @require_groups("admins")
    async def admins() -> Any:
        return {"user": current_user.id}

    @app.get("/mfa")
    @require_policy("require-mfa")
    async def mfa() -> Any:
        return {"user": current_user.id}

    @app.get("/reports")
    @require_scopes("reports:read")
    async def reports() -> Any:
        return {"user": current_user.id}

    @app.get("/token")
    @login_required
    async def token() -> Any:
        return {"token": await access_token()}

    @app.websocket("/ws")
    @login_required
    async def socket() -> None:
        await websocket.accept()
        await websocket.send(current_user.id)

    return app


@pytest.fixture
async def app(sandbox: Sandbox) -> AsyncIterator[Quart]:
    made = _app(_config(sandbox))
    yield made
    await made.extensions["authonomy"].aclose()


def _bearer(sandbox: Sandbox, user: str = "alice", **claims: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {sandbox.issue_token(user, **claims)}", **JSON}


# --- set-up ------------------------------------------------------------------------------


def test_a_bad_configuration_stops_the_app_before_it_serves(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigurationError) as failure:
        Authonomy(Quart(__name__), config=_config(sandbox, session_secret="short"))
    assert failure.value.field == "session_secret"


def test_init_app_reads_the_apps_config_keys_and_names_a_missing_one() -> None:
    app = Quart(__name__)
    app.config.update(AUTHONOMY_ENVIRONMENT="sandbox", AUTHONOMY_API_KEY="ak_x")
    with pytest.raises(ConfigurationError) as failure:
        Authonomy().init_app(app)
    assert failure.value.variable == "AUTHONOMY_AUDIENCE"


def test_one_extension_object_refuses_apps_with_different_webhook_secrets(
    sandbox: Sandbox,
) -> None:
    authonomy = Authonomy(config=None)
    first, second = Quart("first"), Quart("second")
    first.config.update(_env(_config(sandbox)))
    second.config.update(_env(_config(sandbox)), AUTHONOMY_WEBHOOK_SECRET="whsec_" + "c" * 32)
    authonomy.init_app(first)
    with pytest.raises(ConfigurationError, match="webhook_secret"):
        authonomy.init_app(second)
    asyncio.run(first.extensions["authonomy"].aclose())


def _env(config: AuthonomyConfig) -> dict[str, Any]:
    names = ("environment", "api_key", "api_base_url", "issuer", "audience", "app_url")
    values = {f"AUTHONOMY_{name.upper()}": getattr(config, name) for name in names}
    values["AUTHONOMY_SESSION_SECRET"] = "s" * 40
    values["AUTHONOMY_WEBHOOK_SECRET"] = config.webhook_secrets[0]
    return values


def test_webhooks_without_a_secret_say_which_variable_is_missing() -> None:
    with pytest.raises(ConfigurationError) as failure:
        Authonomy().webhooks  # noqa: B018 -- the property raises
    assert failure.value.variable == "AUTHONOMY_WEBHOOK_SECRET"


async def test_a_guard_on_an_app_without_the_extension_says_what_to_do() -> None:
    app = Quart(__name__)
    app.get("/p")(login_required(_plain_view))
    response = await app.test_client().get("/p", headers=JSON)
    assert response.status_code == 500  # Quart's answer to the RuntimeError below
    with pytest.raises(RuntimeError, match=r"Authonomy\(app, config=...\)"):
        async with app.test_request_context("/p"):
            current_user.is_authenticated  # noqa: B018 -- reading it raises


def _plain_view() -> str:
    return "never"


# --- guards and current_user ---------------------------------------------------------------


async def test_nobody_is_sent_to_login_from_a_page_and_refused_with_401_by_an_api(
    app: Quart,
) -> None:
    client = app.test_client()
    page = await client.get("/profile", headers=HTML)
    assert page.status_code == 302
    assert page.headers["location"] == "/auth/login?next=%2Fprofile"
    api = await client.get("/profile", headers=JSON)
    assert api.status_code == 401 and api.headers["www-authenticate"].startswith("Bearer")
    assert (await api.get_json())["error"]["code"] == "UNAUTHENTICATED"
    assert await (await client.get("/me")).get_json() == {"user": None}


async def test_a_bearer_user_passes_the_guards_it_meets(app: Quart, sandbox: Sandbox) -> None:
    client = app.test_client()
    alice = _bearer(sandbox, "alice", mfa=True, scopes=["openid", "reports:read"])
    for path in ("/profile", "/admins", "/mfa", "/reports"):
        response = await client.get(path, headers=alice)
        assert response.status_code == 200, path
        assert await response.get_json() == {"user": "user_alice"}, path


async def test_a_bearer_user_who_fails_a_guard_gets_403(app: Quart, sandbox: Sandbox) -> None:
    client = app.test_client()
    bob = _bearer(sandbox, "bob", groups=["engineering"], mfa=False, scopes=["openid"])
    for path, code in (
        ("/admins", "POLICY_VIOLATED"),
        ("/mfa", "POLICY_VIOLATED"),
        ("/reports", "INSUFFICIENT_SCOPE"),
    ):
        response = await client.get(path, headers=bob)
        assert response.status_code == 403, path
        assert (await response.get_json())["error"]["code"] == code, path
    reports = await client.get("/reports", headers=bob)
    assert 'error="insufficient_scope"' in reports.headers["www-authenticate"]


async def test_an_invalid_token_is_refused_before_the_view(app: Quart) -> None:
    response = await app.test_client().get("/me", headers={"authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_access_token_is_the_callers_own(app: Quart, sandbox: Sandbox) -> None:
    headers = _bearer(sandbox, "bob")
    response = await app.test_client().get("/token", headers=headers)
    assert await response.get_json() == {"token": headers["authorization"][7:]}


# --- WebSockets ------------------------------------------------------------------------------


async def test_a_signed_in_websocket_gets_its_user(app: Quart, sandbox: Sandbox) -> None:
    client = app.test_client()
    async with client.websocket("/ws", headers=_bearer(sandbox, "bob")) as socket:
        assert await socket.receive() == "user_bob"


@pytest.mark.parametrize("authorization", [None, "Bearer not.a.token"])
async def test_a_websocket_handshake_without_a_user_is_closed_with_1008(
    app: Quart, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    with pytest.raises(WebsocketDisconnectError) as closed:
        async with app.test_client().websocket("/ws", headers=headers) as socket:
            await socket.receive()
    assert closed.value.args[0] == 1008


# --- sign-in, sign-out and the test helpers --------------------------------------------------


async def test_alogin_as_signs_in_with_and_without_async_with(app: Quart) -> None:
    async with app.test_client() as client:
        assert await alogin_as(client, "alice", next_path="/profile") == "/profile"
        assert await (await client.get("/profile")).get_json() == {"user": "user_alice"}
    plain = app.test_client()
    await alogin_as(plain, "bob")
    assert await (await plain.get("/me")).get_json() == {"user": "user_bob"}
    signed_out = await plain.post("/auth/logout", headers={"origin": "http://localhost"})
    assert signed_out.status_code in (302, 303)
    assert (await plain.get("/profile", headers=JSON)).status_code == 401


async def test_login_as_inside_an_event_loop_points_to_alogin_as(app: Quart) -> None:
    with pytest.raises(TypeError, match="alogin_as"):
        login_as(app.test_client(), "alice")


def test_login_as_and_send_webhook_drive_the_client_outside_an_event_loop(
    sandbox: Sandbox,
) -> None:
    seen: list[str] = []
    app = _app(_config(sandbox), seen)
    client: QuartClient = app.test_client()
    assert login_as(client, "alice", next_path="/profile") == "/profile"
    assert asyncio.run(client.get("/profile")).status_code == 200
    response = send_webhook(client, "user.authenticated", {"user": {"id": "user_alice"}})
    assert response.status_code == 200 and len(seen) == 1
    asyncio.run(app.extensions["authonomy"].aclose())


async def test_webhooks_run_their_handler_once_and_refuse_another_secret(
    sandbox: Sandbox,
) -> None:
    seen: list[str] = []
    app = _app(_config(sandbox), seen)
    client = app.test_client()
    data = {"user": {"id": "user_bob"}}
    first = await asend_webhook(client, "user.authenticated", data, event_id="evt_once")
    again = await asend_webhook(client, "user.authenticated", data, event_id="evt_once")
    assert (first.status_code, again.status_code, seen) == (200, 200, ["evt_once"])
    other = "whsec_" + "b" * 32
    forged = await asend_webhook(client, "user.authenticated", data, secret=other)
    assert forged.status_code == 400 and seen == ["evt_once"]
    await app.extensions["authonomy"].aclose()


async def test_a_webhook_body_over_the_limit_is_refused_with_413(sandbox: Sandbox) -> None:
    app = _app(_config(sandbox))
    limit = app.extensions["authonomy.webhooks"].max_body_bytes
    response = await app.test_client().post(
        "/webhooks/authonomy", data=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    await app.extensions["authonomy"].aclose()
