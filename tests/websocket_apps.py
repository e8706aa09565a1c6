"""A WebSocket app per adapter of the registry that serves WebSockets: ``/ws/me`` behind
``login_required`` says its user's id and closes.

Flask and Django have none: WSGI has no WebSocket, and Django's ASGI handler serves HTTP
only (WebSockets there need Channels, which the kit does not wrap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar import WebSocket as LitestarWebSocket
from litestar import websocket as litestar_websocket
from quart import Quart
from quart import websocket as quart_websocket
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations import litestar as kit_litestar
from authonomy_integrations import quart as kit_quart
from authonomy_integrations import starlette as kit_starlette

#: Adapters of the registry that cannot serve a WebSocket at all.
NO_WEBSOCKETS = frozenset({"flask", "django-wsgi", "django-asgi"})


def _starlette(config: AuthonomyConfig) -> Starlette:
    @kit_starlette.login_required
    async def me(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.user.id)
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws/me", me)])
    app.add_middleware(kit_starlette.AuthonomyMiddleware, config=config)
    return app


def _quart(config: AuthonomyConfig) -> Quart:
    app = Quart(__name__)
    kit_quart.Authonomy(app, config=config)

    async def me() -> None:
        await quart_websocket.accept()
        await quart_websocket.send(kit_quart.current_user.id)
        await quart_websocket.close(1000)

    app.websocket("/ws/me", endpoint="me")(kit_quart.login_required(me))
    return app


def _litestar(config: AuthonomyConfig) -> Litestar:
    @litestar_websocket("/ws/me", guards=[kit_litestar.login_required])
    async def me(socket: LitestarWebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.send_text(socket.user.id)
        await socket.close()

    plugin = kit_litestar.AuthonomyPlugin(config=config)
    return Litestar([me], plugins=[plugin], logging_config=None)


#: The WebSocket app of each adapter, by its registry name.
WEBSOCKET_APPS: dict[str, Callable[[AuthonomyConfig], Any]] = {
    "starlette": _starlette,
    "quart": _quart,
    "litestar": _litestar,
}
