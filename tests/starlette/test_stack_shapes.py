"""The middleware wherever a FastAPI app puts it: added alone, outside or inside another
middleware, or wrapping the whole app. Guards used as dependencies refuse the same way
in each, over HTTP and WebSocket, and a refusal keeps a refreshed session's cookie."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    login_required,
    require_groups,
    require_policy,
)
from authonomy_integrations.stores import CookieSessionStore
from authonomy_integrations.testing import login_as

from ..browsing import API, PAGE, bearer, mint


class Stamp(BaseHTTPMiddleware):
    """A middleware of the app's own, written the Starlette way: marks each response."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        answer = await call_next(request)
        answer.headers["x-stamp"] = "1"
        return answer


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/open")
    async def open_page() -> dict[str, str]:
        return {"user": "anyone"}

    @app.get("/mfa")
    async def mfa(
        user: Annotated[AuthonomyUser, Depends(require_policy("require-mfa"))],
    ) -> dict[str, str]:
        return {"user": user.id}

    @app.get("/admins", dependencies=[Depends(require_groups("admins"))])
    async def admins() -> dict[str, str]:
        return {"user": "an admin"}

    @app.websocket("/ws/admins")
    async def socket(
        websocket: WebSocket, user: Annotated[AuthonomyUser, Depends(login_required)]
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"user": user.id})
        await websocket.close()

    return app


def _added(config: AuthonomyConfig, clock: Callable[[], float]) -> ASGIApp:
    app = _app()
    app.add_middleware(AuthonomyMiddleware, config=config, clock=clock)
    return app


def _outside_another(config: AuthonomyConfig, clock: Callable[[], float]) -> ASGIApp:
    app = _app()
    app.add_middleware(GZipMiddleware)
    app.add_middleware(AuthonomyMiddleware, config=config, clock=clock)
    return app


def _inside_another(config: AuthonomyConfig, clock: Callable[[], float]) -> ASGIApp:
    app = _app()
    app.add_middleware(AuthonomyMiddleware, config=config, clock=clock)
    app.add_middleware(Stamp)
    return app


def _wrapping(config: AuthonomyConfig, clock: Callable[[], float]) -> ASGIApp:
    return AuthonomyMiddleware(_app(), config=config, clock=clock)


SHAPES: dict[str, Callable[[AuthonomyConfig, Callable[[], float]], ASGIApp]] = {
    "added": _added,
    "outside-another": _outside_another,
    "inside-another": _inside_another,
    "wrapping-the-app": _wrapping,
}


@pytest.fixture(scope="module")
def bob(sb: Sandbox) -> dict[str, str]:
    """API headers of bob: engineering only, no MFA."""
    return bearer(mint(sb, sub="user_bob", groups=["engineering"], amr=["pwd"]))


@pytest.fixture(scope="module", params=sorted(SHAPES))
def client(request: pytest.FixtureRequest, sb: Sandbox) -> Iterator[TestClient]:
    app = SHAPES[request.param](sb.config(max_retries=0), sb.state.clock.now)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/mfa", "/admins"])
def test_dependency_answers_a_signed_out_api_call_with_401(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=API)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/mfa", "/admins"])
def test_dependency_sends_a_signed_out_browser_to_login(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=PAGE)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"/auth/login?next=%2F{path[1:]}"


@pytest.mark.parametrize("path", ["/mfa", "/admins"])
def test_dependency_refuses_a_user_failing_the_check(
    client: TestClient, path: str, bob: dict[str, str]
) -> None:
    answer = client.get(path, headers=bob)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "POLICY_VIOLATED"


def test_dependency_admits_a_user_passing_the_check(client: TestClient, sb: Sandbox) -> None:
    assert client.get("/mfa", headers=bearer(mint(sb))).json() == {"user": "user_alice"}
    assert client.get("/admins", headers=bearer(mint(sb))).json() == {"user": "an admin"}


def test_websocket_dependency_admits_the_user(client: TestClient, sb: Sandbox) -> None:
    with client.websocket_connect("/ws/admins", headers=bearer(mint(sb))) as socket:
        assert socket.receive_json() == {"user": "user_alice"}


def test_websocket_dependency_refuses_nobody_with_policy_violation(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws/admins"):
        pass
    assert closed.value.code == 1008


def test_a_refusal_passes_through_the_apps_own_middleware_outside(sb: Sandbox) -> None:
    app = _inside_another(sb.config(max_retries=0), sb.state.clock.now)
    with TestClient(app) as client:
        answer = client.get("/admins", headers=API)
    assert answer.status_code == 401
    assert answer.headers["x-stamp"] == "1"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_refusal_keeps_the_refreshed_sessions_cookie(shape: str) -> None:
    secret = secrets.token_urlsafe(32)
    with Sandbox(token_ttl=120) as sb:
        config = sb.config(
            max_retries=0, session_store=CookieSessionStore(secret), session_secret=secret
        )
        with TestClient(SHAPES[shape](config, sb.state.clock.now)) as client:
            assert login_as(client, "bob", next_path="/open") == "/open"
            before = client.cookies["authonomy_session"]
            sb.advance_clock(100)  # the access token is due for refresh
            answer = client.get("/admins", headers=API)
            assert answer.status_code == 403  # bob is not in admins
            # The session cookie carries the refreshed tokens: without it, the browser
            # would keep presenting the spent refresh token.
            refreshed = answer.cookies.get("authonomy_session")
            assert refreshed and refreshed != before
            assert client.get("/mfa", headers=API).status_code == 403


def test_dependencies_of_a_mounted_sub_application_refuse_as_its_parents(
    sb: Sandbox, bob: dict[str, str]
) -> None:
    parent = FastAPI()
    parent.mount("/v2", _app())
    parent.add_middleware(AuthonomyMiddleware, config=sb.config(max_retries=0))
    with TestClient(parent, follow_redirects=False) as client:
        assert client.get("/v2/admins", headers=API).status_code == 401
        assert (
            client.get("/v2/admins", headers=PAGE)
            .headers["location"]
            .startswith("/auth/login?next=")
        )
        assert client.get("/v2/mfa", headers=bob).status_code == 403
        assert client.get("/v2/mfa", headers=bearer(mint(sb))).json() == {"user": "user_alice"}
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/v2/ws/admins"),
        ):
            pass
        assert closed.value.code == 1008


def test_the_middleware_the_app_builds_is_the_class_it_was_given(sb: Sandbox) -> None:
    seen: list[type] = []

    def build(app: ASGIApp, /, **options: Any) -> ASGIApp:
        """Builds the middleware as Starlette's stack does, and records what it got."""
        middleware = AuthonomyMiddleware(app, **options)
        seen.append(type(middleware))
        return middleware

    app = _app()
    app.add_middleware(build, config=sb.config(max_retries=0))
    with TestClient(app) as client:
        assert client.get("/admins", headers=API).status_code == 401
    # The same class whether Starlette's exception handling is further in or not: no
    # swap to another class behind the app's back.
    assert seen == [AuthonomyMiddleware]


def test_a_refusal_leaves_the_handlers_starlette_hands_its_routes_alone(sb: Sandbox) -> None:
    app = _app()

    @app.get("/handlers")
    async def handlers(request: Request) -> list[str]:
        # What Starlette's own exception handling gave this request's routes.
        by_class, _ = request.scope["starlette.exception_handlers"]
        return sorted(getattr(key, "__name__", str(key)) for key in by_class)

    app.add_middleware(AuthonomyMiddleware, config=sb.config(max_retries=0))
    with TestClient(app) as client:
        before = client.get("/handlers").json()
        assert client.get("/admins", headers=API).status_code == 401
        assert client.get("/handlers").json() == before
