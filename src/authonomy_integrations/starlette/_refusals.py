"""How a guard's refusal reaches the client when the guard runs as a FastAPI dependency.

A dependency cannot return a response, so it raises, and only public framework API
carries the refusal from there:

* On a WebSocket it raises Starlette's ``WebSocketException`` with the close code
  (:func:`websocket_close_code`), which every Starlette and FastAPI application already
  answers by closing the socket (before ``accept``: a 403 handshake).
* On HTTP it raises :class:`GuardDenied`, which carries the kit's reply.
  :class:`~.AuthonomyMiddleware` catches it where it calls the app and answers with the
  reply: Starlette's ``ExceptionMiddleware`` re-raises exceptions it has no handler for,
  and an app's own middleware lets them pass. A mounted sub-application, though, has an
  error middleware of its own that would answer 500 first; so the middleware registers
  :func:`answer_denied` on every Starlette application mounted below it, through
  ``Starlette.add_exception_handler``, when it sees its first request (before any
  mounted application builds its stack, which is when Starlette copies its handlers).

Options weighed and left: registering the handler on the application the middleware is
added to (Starlette built that application's stack, copying its handlers, before the
middleware existed, so the handler would not be seen); making :class:`GuardDenied` an
``HTTPException`` (every app would then answer it, but with its own body, not the kit's
error envelope); asking users to register a handler (one more step to forget, and a
forgotten one would answer 500).
"""

from __future__ import annotations

from typing import cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.routing import Host, Mount, Router
from starlette.types import ASGIApp

from .._core.web import Reply
from ._asgi import response

__all__ = ["GuardDenied", "answer_denied", "prepare_mounted", "websocket_close_code"]

#: WebSocket close codes (RFC 6455): refused by policy, and "try again later".
WS_POLICY_VIOLATION = 1008
WS_TRY_AGAIN_LATER = 1013
#: How deep :func:`prepare_mounted` follows mounts inside mounts.
_MOUNT_DEPTH = 16


class GuardDenied(Exception):
    """A guard used as a dependency refused an HTTP request; ``reply`` is the answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"request refused with HTTP {reply.status}")
        self.reply = reply


def websocket_close_code(reply: Reply) -> int:
    """The close code that refuses a WebSocket instead of ``reply``: 1013 ("try again
    later") for a 503, else 1008 (policy violation)."""
    return WS_TRY_AGAIN_LATER if reply.status == 503 else WS_POLICY_VIOLATION


async def answer_denied(connection: HTTPConnection, exc: Exception) -> Response:
    """Starlette's exception handler for :class:`GuardDenied`: the refusal's response."""
    return response(cast(GuardDenied, exc).reply)


def prepare_mounted(app: ASGIApp | None) -> None:
    """Register :func:`answer_denied` on ``app`` (when it is a Starlette application) and
    on every Starlette application mounted below it, unless one already handles
    :class:`GuardDenied`."""
    _prepare(app, _MOUNT_DEPTH)


def _prepare(app: object, depth: int) -> None:
    if depth == 0 or not isinstance(app, Starlette | Router):
        return
    if isinstance(app, Starlette) and GuardDenied not in app.exception_handlers:
        app.add_exception_handler(GuardDenied, answer_denied)
    for route in app.routes:
        if isinstance(route, Mount | Host):
            _prepare(route.app, depth - 1)
