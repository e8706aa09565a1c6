"""The middleware in-process: what it puts in the scope, WebSockets, lifespan, its routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.starlette import AuthonomyMiddleware, require_policy

from ..browsing import API, PAGE, bearer, mint
from .apps import APP_FACTORIES, whoami


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[TestClient]:
    with TestClient(APP_FACTORIES["starlette"](sb), follow_redirects=False) as test_client:
        yield test_client


def test_signed_out_request_gets_unauthenticated_user_and_no_scopes(client: TestClient) -> None:
    assert client.get("/whoami").json() == {"authenticated": False, "user": "", "scopes": []}


def test_bearer_user_and_token_scopes_reach_request_auth(client: TestClient, sb: Sandbox) -> None:
    body = client.get("/whoami", headers=bearer(mint(sb, scope="openid reports:read"))).json()
    assert body["authenticated"] is True
    assert body["user"] == "Alice Anderson"
    assert body["scopes"] == ["authenticated", "openid", "reports:read"]


def test_starlette_requires_decorator_works_with_the_middleware(
    client: TestClient, sb: Sandbox
) -> None:
    assert client.get("/requires").status_code == 403
    answer = client.get("/requires", headers=bearer(mint(sb)))
    assert answer.json() == {"user": "user_alice"}


def test_other_authorization_schemes_are_left_alone(client: TestClient) -> None:
    answer = client.get("/whoami", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert answer.status_code == 200
    assert answer.json()["authenticated"] is False


def test_unknown_session_cookie_is_cleared_and_request_served_signed_out(
    client: TestClient,
) -> None:
    answer = client.get("/whoami", headers={"cookie": "authonomy_session=forged-value"})
    assert answer.json()["authenticated"] is False
    assert answer.headers["set-cookie"].startswith("authonomy_session=;")
    assert "Max-Age=0" in answer.headers["set-cookie"]


def test_websocket_gets_the_bearer_user(client: TestClient, sb: Sandbox) -> None:
    with client.websocket_connect("/ws", headers=bearer(mint(sb))) as socket:
        assert socket.receive_json() == {"user": "Alice Anderson"}


def test_websocket_without_credentials_is_signed_out(client: TestClient) -> None:
    with client.websocket_connect("/ws") as socket:
        assert socket.receive_json() == {"user": ""}


def test_websocket_with_bad_token_is_closed_with_policy_violation(
    client: TestClient, sb: Sandbox
) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws", headers=bearer(mint(sb, aud="other"))),
    ):
        pass
    assert closed.value.code == 1008


@pytest.mark.parametrize("method", ["POST", "HEAD"])
@pytest.mark.parametrize("path", ["/auth/login", "/auth/callback"])
def test_login_routes_answer_only_get(client: TestClient, path: str, method: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


def test_callback_without_a_login_started_is_a_400_page(client: TestClient) -> None:
    answer = client.get("/auth/callback?code=x&state=y&iss=z", headers=PAGE)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")


def test_login_start_sets_login_cookie_and_redirects_to_authonomy(
    client: TestClient, sb: Sandbox
) -> None:
    answer = client.get("/auth/login?next=/stacked")
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(sb.issuer)
    assert answer.headers["set-cookie"].startswith("authonomy_login=")


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _login_app(sb: Sandbox, **overrides: Any) -> Starlette:
    routes = [Route("/whoami", whoami), Route("/mfa", require_policy("require-mfa")(_ok))]
    app = Starlette(routes=routes)
    config = sb.config(**overrides)
    app.add_middleware(AuthonomyMiddleware, config=config, clock=sb.state.clock.now)
    return app


def _sign_in_through(test_client: TestClient, login_path: str, user: str) -> Any:
    start = test_client.get(login_path)
    assert start.status_code == 302, start.text
    with httpx.Client() as idp:
        callback = hosted_login(idp, start.headers["location"], user=user)
    return test_client.get(callback.replace("http://127.0.0.1:8000", ""))


def test_customer_resolver_picks_the_tenant(sb: Sandbox) -> None:
    app = _login_app(sb, customer_resolver=lambda request: request.headers.get("x-tenant"))
    with TestClient(app, follow_redirects=False, headers={"x-tenant": "globex"}) as test_client:
        done = _sign_in_through(test_client, "/auth/login", user="carol")
        assert done.status_code == 302
        assert test_client.get("/whoami").json()["user"] == "Carol Chen"


def test_customer_query_cannot_override_the_resolver(sb: Sandbox) -> None:
    app = _login_app(sb, customer_resolver=lambda request: "acme-corp")
    with TestClient(app, follow_redirects=False) as test_client:
        answer = test_client.get("/auth/login?customer=globex")
        assert answer.status_code == 400
        assert "authonomy_login" not in answer.headers.get("set-cookie", "")


def test_step_up_login_gets_mfa_for_a_user_not_enrolled(sb: Sandbox) -> None:
    with TestClient(_login_app(sb), follow_redirects=False) as test_client:
        _sign_in_through(test_client, "/auth/login", user="bob")
        assert test_client.get("/mfa", headers=API).status_code == 403
        _sign_in_through(test_client, "/auth/login?step_up=require-mfa", user="bob")
        assert test_client.get("/mfa", headers=API).status_code == 200


def test_lifespan_reaches_the_app_and_app_can_be_served_again(sb: Sandbox) -> None:
    started: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append("up")
        yield

    async def me(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.user.display_name)

    app = Starlette(routes=[Route("/me", me)], lifespan=lifespan)
    app.add_middleware(AuthonomyMiddleware, config=sb.config(), clock=sb.state.clock.now)
    with TestClient(app) as first:
        assert first.get("/me", headers=bearer(mint(sb))).text == "Alice Anderson"
    sb.rotate_keys()
    sb.advance_clock(31)  # past the key-set refetch cooldown
    # A new event loop: the key set is fetched again over fresh connections.
    with TestClient(app) as second:
        assert second.get("/me", headers=bearer(mint(sb))).text == "Alice Anderson"
    assert started == ["up", "up"]


async def test_unknown_scope_types_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    config = AuthonomyConfig(
        audience="app_x", issuer="http://127.0.0.1:9", api_key="k", login_path=None
    )
    await AuthonomyMiddleware(app, config=config)({"type": "custom"}, _unused, _unused)
    assert seen == ["custom"]


async def _unused(*args: Any) -> Any:
    raise AssertionError("the middleware must not talk to the server for this scope")


# -- Reading the headers ----------------------------------------------------------------


def test_repeated_authorization_headers_are_refused(client: TestClient, sb: Sandbox) -> None:
    good = ("authorization", f"Bearer {mint(sb)}")
    bad = ("authorization", "Bearer not-a-token")
    for _ in range(3):  # the good header is remembered by now
        assert client.get("/whoami", headers=[good]).json()["authenticated"] is True
    # Neither wins, whichever comes last: the app's own reading of the header (Starlette
    # and FastAPI take the first) could not disagree with the kit's.
    assert client.get("/whoami", headers=[good, bad]).status_code == 401
    assert client.get("/whoami", headers=[bad, good]).status_code == 401
    assert client.get("/whoami", headers=[good, good]).status_code == 401


def test_an_empty_authorization_header_leaves_the_session_cookie_to_decide(
    sb: Sandbox,
) -> None:
    from authonomy_integrations.testing import login_as

    app = Starlette(routes=[Route("/whoami", whoami)])
    config = sb.config(app_url="http://localhost")
    app.add_middleware(AuthonomyMiddleware, config=config, clock=sb.state.clock.now)
    with TestClient(app, base_url="http://localhost") as http:
        login_as(http, "bob")
        session = f"authonomy_session={http.cookies['authonomy_session']}"
        http.cookies.clear()
        headers = [("cookie", "theme=dark"), ("authorization", ""), ("cookie", session)]
        assert http.get("/whoami", headers=headers).json()["user"] == "Bob Brown"
        # Cookies split over two headers (HTTP/2) are read as one.
        split = [("cookie", "theme=dark"), ("cookie", session)]
        assert http.get("/whoami", headers=split).json()["user"] == "Bob Brown"
        # The session cookie sent twice, once per header, is no session.
        twice = [("cookie", session), ("cookie", "authonomy_session=planted")]
        assert http.get("/whoami", headers=twice).json()["authenticated"] is False


def test_a_delivery_to_the_webhook_path_is_not_refused_for_a_stray_authorization_header(
    sb: Sandbox,
) -> None:
    from authonomy_integrations.starlette import webhook_endpoint
    from authonomy_integrations.webhooks import WebhookReceiver

    from ..webhooks.conftest import SECRET, make_delivery

    config = sb.config(webhook_secret=SECRET)
    app = Starlette()
    app.add_route(config.webhook_path, webhook_endpoint(WebhookReceiver(secret=SECRET)), ["POST"])
    app.add_middleware(AuthonomyMiddleware, config=config, clock=sb.state.clock.now)
    delivery = make_delivery()
    with TestClient(app) as http:
        headers = {**delivery.headers, "authorization": "Bearer not-a-token"}
        answer = http.post(config.webhook_path, content=delivery.body, headers=headers)
        assert answer.status_code == 200
        assert answer.json()["data"]["id"] == "evt_1"
        # Elsewhere the same header is refused.
        assert http.get("/elsewhere", headers=headers).status_code == 401


def test_guards_behind_a_middleware_that_replaced_request_auth_say_so(sb: Sandbox) -> None:
    from starlette.authentication import AuthCredentials

    from authonomy_integrations.starlette import login_required

    @login_required
    async def me(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.user.id)

    class ReplacesAuth:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            scope["auth"] = AuthCredentials(["authenticated"])
            await self.app(scope, receive, send)

    app = Starlette(routes=[Route("/me", me)])
    app.add_middleware(ReplacesAuth)
    app.add_middleware(AuthonomyMiddleware, config=sb.config(), clock=sb.state.clock.now)
    with pytest.raises(RuntimeError, match=r"replaced request\.auth"):
        TestClient(app).get("/me", headers=bearer(mint(sb)))
