"""The plugin's middleware: each request through the core's pipeline.

The caller known from memory goes straight to the handler; anything else runs the
serving flow (:class:`~.._core.serving.Serving`), whose
:class:`~.._core.serving.CallApp` this module answers by putting the user in the scope
and calling the handler. Litestar applies middleware to routes it has matched, so the
plugin registers the kit's paths as routes (see ``_plugin``) and this middleware answers
them before their handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from .._core.caller import Pending
from .._core.routes import Answer, RequestInfo, Routes
from .._core.serving import CallApp, Serving
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._runtime import AuthonomyAsync
from ._asgi import Credentials, reply_response, request_info

__all__ = ["Pipeline"]

_ANONYMOUS = UnauthenticatedUser()
_CREDENTIALS_CACHE_SIZE = 1024
#: WebSocket close codes (RFC 6455): refused by policy, and "try again later".
WS_POLICY_VIOLATION = 1008
WS_TRY_AGAIN_LATER = 1013
#: ASGI's scope type of a WebSocket handshake, as a plain string (``ScopeType`` is a
#: ``str`` enum: equal, but each read of the enum's member is an attribute lookup).
_WEBSOCKET = "websocket"


class Pipeline:
    """The kit's part of every request to one app, shared by the middleware of each of
    its routes."""

    def __init__(self, runtime: AuthonomyAsync) -> None:
        self.runtime = runtime
        serving = Serving(runtime.routes, runtime.callers)
        self.known = serving.known_in
        self._serve = serving.serve
        self._runner = runtime.runner.with_handlers({CallApp: self._call_app})
        #: ``request.auth`` for nobody, and for a user by the scopes of the user's token
        #: (made once per set of scopes, see :meth:`granted`).
        self.nobody = Credentials(runtime)
        self.credentials: dict[frozenset[str], Credentials] = {}

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """The middleware around one route's ``app`` (Litestar calls it with ``app=``)."""
        return _Middleware(app, self)

    def expose(self, scope: Scope, user: AuthonomyUser | None) -> None:
        """``request.user`` and ``request.auth`` for ``user`` (``None``: nobody)."""
        if user is None:
            scope["user"], scope["auth"] = _ANONYMOUS, self.nobody
            return
        scope["user"] = user
        scope["auth"] = self.credentials.get(user.scopes) or self.granted(user)

    async def settle(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, pending: Pending
    ) -> None:
        """The core's serving flow: a route of the kit's, a refusal, or the handler."""
        credentials = (pending.authorization, pending.cookies)
        info = _RequestReader(scope)
        flow = self._serve((app, scope, receive, send), scope["path"], credentials, info)
        outcome = await self._runner.run(flow)
        if isinstance(outcome, Answer):
            await _answer(outcome, scope, receive, send)

    async def _call_app(self, effect: CallApp) -> None:
        """Tell the handler who is calling and call it; a refreshed session's cookie
        rides on the response."""
        app, scope, receive, send = effect.request
        self.expose(scope, effect.user)
        if effect.set_cookie is not None and scope["type"] == ScopeType.HTTP:
            send = _with_cookie(send, effect.set_cookie)
        await app(scope, receive, send)

    def granted(self, user: AuthonomyUser) -> Credentials:
        """``request.auth`` for ``user``, made and kept in :attr:`credentials` (emptied
        when full, never replaced: the middleware holds it)."""
        if len(self.credentials) >= _CREDENTIALS_CACHE_SIZE:
            self.credentials.clear()
        granted = self.credentials[user.scopes] = Credentials(self.runtime, user.scopes)
        return granted


class _Middleware:
    """Settles the caller of one route's requests, or answers a kit route."""

    __slots__ = ("app", "credentials", "known", "nobody", "pipeline")

    def __init__(self, app: ASGIApp, pipeline: Pipeline) -> None:
        self.app, self.pipeline = app, pipeline
        # Bound once: a repeat caller then costs one call into the core and two scope
        # writes, with no attribute chain or second call on the way.
        self.known, self.nobody = pipeline.known, pipeline.nobody
        self.credentials = pipeline.credentials

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain method that hands back the route's own awaitable: a repeat caller then
        # costs no coroutine of this middleware's (Litestar awaits what it is given).
        user = self.known(scope["path"], scope["headers"], scope["type"] == _WEBSOCKET)
        if user is None:
            scope["user"], scope["auth"] = _ANONYMOUS, self.nobody
        elif isinstance(user, Pending):
            return self.pipeline.settle(self.app, scope, receive, send, user)
        else:
            # ``Pipeline.expose`` inline: this runs on every request.
            scope["user"] = user
            scope["auth"] = self.credentials.get(user.scopes) or self.pipeline.granted(user)
        return self.app(scope, receive, send)


def close_code(status: int) -> int:
    """The close code that refuses a WebSocket instead of an HTTP ``status``."""
    return WS_TRY_AGAIN_LATER if status == 503 else WS_POLICY_VIOLATION


async def _answer(answer: Answer, scope: Scope, receive: Receive, send: Send) -> None:
    """The kit's answer; a WebSocket is closed instead (1013 for a 503, else 1008)."""
    if scope["type"] == ScopeType.WEBSOCKET:
        code = close_code(answer.reply.status)
        await send({"type": "websocket.close", "code": code, "reason": ""})
        return
    await reply_response(answer.reply, *answer.cookies)(scope, receive, send)


def _with_cookie(send: Send, set_cookie: str) -> Send:
    """``send`` that appends a ``Set-Cookie`` header to the response start message."""
    extra = (b"set-cookie", set_cookie.encode("latin-1"))

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), extra]}
        await send(message)

    return send_with_cookie


class _RequestReader:
    """The request read for the core, when the serving flow asks (``info(routes)``)."""

    __slots__ = ("scope",)

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, routes: Routes | None) -> RequestInfo:
        scope = self.scope
        if routes is not None and scope["type"] == ScopeType.HTTP:
            # The Litestar request is what ``config.customer_resolver`` is handed.
            return request_info(scope, routes, Request(scope))
        return request_info(scope, None)
