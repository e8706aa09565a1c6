"""Guards and ``current_user`` on WebSocket routes, under uvicorn: a signed-in user passes,
anyone else's handshake is refused promptly (HTTP 403 or close 1008), never a 500 or a hang."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from litestar import Litestar
from litestar import WebSocket as LitestarWebSocket
from litestar import websocket as litestar_websocket
from litestar.di import NamedDependency
from quart import Quart
from quart import websocket as quart_websocket
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations import quart as kit_quart
from authonomy_integrations.litestar import AuthonomyPlugin
from authonomy_integrations.litestar import require_groups as litestar_groups
from authonomy_integrations.litestar import require_policy as litestar_policy
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    current_user,
    login_required,
    require_groups,
    require_policy,
)
from tests.browsing import mint
from tests.serving import serve


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


async def _hello(websocket: WebSocket, user: AuthonomyUser) -> None:
    await websocket.accept()
    await websocket.send_text(user.id)
    await websocket.close()


def fastapi_app(config: AuthonomyConfig) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws/me")
    async def me(
        websocket: WebSocket, user: Annotated[AuthonomyUser, Depends(current_user)]
    ) -> None:
        await _hello(websocket, user)

    @app.websocket("/ws/mfa")
    async def mfa(
        websocket: WebSocket, user: Annotated[AuthonomyUser, Depends(require_policy("require-mfa"))]
    ) -> None:
        await _hello(websocket, user)

    @app.websocket("/ws/admins", dependencies=[Depends(require_groups("admins"))])
    async def admins(websocket: WebSocket) -> None:
        await _hello(websocket, websocket.user)

    app.add_middleware(AuthonomyMiddleware, config=config)
    return app


def starlette_app(config: AuthonomyConfig) -> Starlette:
    @login_required
    async def me(websocket: WebSocket) -> None:
        await _hello(websocket, websocket.user)

    @require_policy("require-mfa")
    async def mfa(websocket: WebSocket) -> None:
        await _hello(websocket, websocket.user)

    @require_groups("admins")
    async def admins(websocket: WebSocket) -> None:
        await _hello(websocket, websocket.user)

    routes = [
        WebSocketRoute("/ws/me", me),
        WebSocketRoute("/ws/mfa", mfa),
        WebSocketRoute("/ws/admins", admins),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(AuthonomyMiddleware, config=config)
    return app


def quart_app(config: AuthonomyConfig) -> Quart:
    app = Quart(__name__)
    kit_quart.Authonomy(app, config=config)

    async def hello() -> None:
        await quart_websocket.accept()
        await quart_websocket.send(kit_quart.current_user.id)
        await quart_websocket.close(1000)

    app.websocket("/ws/me", endpoint="me")(kit_quart.login_required(hello))
    app.websocket("/ws/mfa", endpoint="mfa")(kit_quart.require_policy("require-mfa")(hello))
    app.websocket("/ws/admins", endpoint="admins")(kit_quart.require_groups("admins")(hello))
    return app


def litestar_app(config: AuthonomyConfig) -> Litestar:
    """``/ws/me`` takes the ``current_user`` dependency; the others are behind guards."""

    async def say(socket: LitestarWebSocket[Any, Any, Any], user_id: str) -> None:
        await socket.accept()
        await socket.send_text(user_id)
        await socket.close()

    @litestar_websocket("/ws/me")
    async def me(
        socket: LitestarWebSocket[Any, Any, Any], current_user: NamedDependency[AuthonomyUser]
    ) -> None:
        await say(socket, current_user.id)

    @litestar_websocket("/ws/mfa", guards=[litestar_policy("require-mfa")])
    async def mfa(socket: LitestarWebSocket[Any, Any, Any]) -> None:
        await say(socket, socket.user.id)

    @litestar_websocket("/ws/admins", guards=[litestar_groups("admins")])
    async def admins(socket: LitestarWebSocket[Any, Any, Any]) -> None:
        await say(socket, socket.user.id)

    plugin = AuthonomyPlugin(config=config)
    return Litestar([me, mfa, admins], plugins=[plugin], logging_config=None)


APPS = {
    "fastapi": fastapi_app,
    "starlette": starlette_app,
    "quart": quart_app,
    "litestar": litestar_app,
}


@pytest.fixture(scope="module", params=sorted(APPS))
def ws_url(request: pytest.FixtureRequest, sb: Sandbox) -> Iterator[str]:
    make = APPS[request.param]
    with serve(lambda _url: make(sb.config(max_retries=0))) as url:
        yield url.replace("http://", "ws://")


def _talk(url: str, headers: dict[str, str]) -> str:
    """What the socket says; raises when the handshake or the connection is refused."""
    with connect(url, additional_headers=headers, open_timeout=10, close_timeout=5) as socket:
        message = socket.recv(timeout=10)
    assert isinstance(message, str)
    return message


def _refusal(url: str, headers: dict[str, str]) -> Any:
    with pytest.raises((InvalidStatus, ConnectionClosed)) as refused:
        _talk(url, headers)
    error = refused.value
    if isinstance(error, InvalidStatus):
        assert error.response.status_code == 403
    else:
        assert error.rcvd is not None and error.rcvd.code in (1008, 1013)
    return error


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/ws/me", "/ws/mfa", "/ws/admins"])
def test_signed_in_user_who_meets_the_guard_gets_the_socket(
    ws_url: str, sb: Sandbox, path: str
) -> None:
    assert _talk(ws_url + path, _bearer(mint(sb))) == "user_alice"


@pytest.mark.parametrize("path", ["/ws/me", "/ws/mfa", "/ws/admins"])
def test_anonymous_handshake_is_refused(ws_url: str, path: str) -> None:
    _refusal(ws_url + path, {})


@pytest.mark.parametrize(
    ("path", "claims"),
    [("/ws/mfa", {"amr": ["pwd"]}), ("/ws/admins", {"groups": ["engineering"]})],
)
def test_user_who_fails_the_guard_is_refused(
    ws_url: str, sb: Sandbox, path: str, claims: dict[str, Any]
) -> None:
    _refusal(ws_url + path, _bearer(mint(sb, **claims)))


def test_invalid_token_is_refused(ws_url: str) -> None:
    _refusal(ws_url + "/ws/me", _bearer("not.a.token"))
