"""``AuthonomyMiddleware``: pure ASGI authentication for Starlette and FastAPI apps."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn, cast

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._config import AuthonomyConfig
from .._core.caller import Caller, Pending, refusal
from .._core.routes import TEMPORARY_ERRORS
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._errors import ConfigurationError
from .._runtime import AuthonomyAsync
from ._asgi import (
    KitCredentials,
    closing,
    request_headers,
    response,
    target,
    with_cookies,
)
from ._guards import GuardDenied, websocket_close_code
from ._routes import RouteFlow, serve

__all__ = ["AuthonomyMiddleware"]

logger = logging.getLogger("authonomy_integrations")

_ANONYMOUS = UnauthenticatedUser()
#: Stands for the webhook path among the kit's routes: the app serves it, for nobody.
_DELIVERY = object()
_CREDENTIALS_CACHE_SIZE = 1024
#: How many middlewares deep ``_exception_middleware`` looks for Starlette's own.
_STACK_DEPTH = 64
#: WebSocket close codes (RFC 6455): refused by policy, and "try again later".
_WS_POLICY_VIOLATION = 1008
_WS_TRY_AGAIN_LATER = 1013


class AuthonomyMiddleware:
    """Signs users in with Authonomy and puts them in the scope.

    ``app.add_middleware(AuthonomyMiddleware, config=config)``. The middleware

    * serves ``config.login_path`` (GET, ``?next=&customer=&step_up=``),
      ``config.callback_path`` (GET) and ``config.logout_path`` (POST);
    * authenticates every other HTTP and WebSocket request by its ``Authorization:
      Bearer`` token, else its session cookie (refreshing the session when due), and sets
      ``scope["user"]`` (``request.user``: an ``AuthonomyUser`` or an unauthenticated
      user) and ``scope["auth"]`` (``request.auth``: ``AuthCredentials`` with
      ``"authenticated"`` and the token's scopes, so Starlette's ``@requires`` works,
      carrying the runtime the guards use);
    * answers an invalid bearer token with 401 and an unreachable Authonomy with 503
      (WebSockets are closed with 1008 and 1013 instead; they get the user but no
      cookie updates). Guards used as FastAPI dependencies refuse through the route
      that raised (see ``_guards``); apps without Starlette's exception handling get
      their refusals answered here.

    ``clock`` replaces ``time.time`` for token expiry and session timing (tests).
    """

    _route: Callable[[str], object | None]
    _known: Callable[[Iterable[tuple[bytes, bytes]]], AuthonomyUser | Pending | None]

    def __new__(cls, app: ASGIApp, *args: Any, **kwargs: Any) -> AuthonomyMiddleware:
        """Inside Starlette's own middleware stack, the form that awaits nothing itself
        (:class:`_InsideStarlette`); wrapping an application, this one."""
        if cls is AuthonomyMiddleware and _exception_middleware(app) is not None:
            cls = _InsideStarlette
        return super().__new__(cls)

    def __init__(
        self,
        app: ASGIApp,
        config: AuthonomyConfig,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self._failure: ConfigurationError | None = None
        try:
            self.runtime = AuthonomyAsync(config, clock=clock or time.time)
        except ConfigurationError as exc:
            logger.error("AuthonomyMiddleware cannot start: %s", exc)
            if not isinstance(self, _InsideStarlette):
                raise
            self._cannot_start(exc)
            return
        routes = self.runtime.routes
        # Other paths without a caller (webhook deliveries) reach the app, for nobody.
        own: dict[str, object] = dict.fromkeys(routes.unauthenticated, _DELIVERY)
        own.update(routes.by_path)
        self._route = routes.finder(own)
        callers = self.runtime.callers
        self._known = callers.known_in
        self._flow = callers.flow
        self._run = self.runtime.run
        self._nobody = KitCredentials(self.runtime)
        self._credentials: dict[frozenset[str], KitCredentials] = {}

    def _cannot_start(self, exc: ConfigurationError) -> None:
        """Keep ``exc`` for the server: Starlette builds its middleware in the lifespan
        start, where uvicorn's default lifespan mode takes an exception for "lifespan
        unsupported" and serves on, answering every request with a 500. Answered as a
        failed start-up instead (see :meth:`_other`), it stops the server. Should a
        request come all the same (no lifespan), the kit's route lookup and caller
        lookup, which every request passes through, raise it."""
        self._failure = exc

        def refuse(*_: object) -> NoReturn:
            raise exc

        self._route = self._known = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the kit's routes, or authenticate the request and call the app."""
        try:
            await self._serve(scope, receive, send)
        except GuardDenied as denied:
            await self._denied(denied, scope, receive, send)

    def _serve(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The request's handling, as an awaitable: the app's own, once the caller is
        known from memory, so a repeat bearer token costs a header read and a lookup."""
        if scope["type"] == "http":
            if (route := self._route(scope["path"])) is not None:
                return self._own_path(route, scope, receive, send)
        elif scope["type"] != "websocket":
            return self._other(scope, receive, send)
        user = self._known(scope["headers"])
        if isinstance(user, Pending):
            return self._settled(scope, receive, send, user)
        if user is None:
            scope["user"] = _ANONYMOUS
            scope["auth"] = self._nobody
        else:
            scope["user"] = user
            # ``_credentials_of``, with its lookup inline.
            scope["auth"] = self._credentials.get(user.scopes) or self._credentials_of(user)
        return self.app(scope, receive, send)

    async def _settled(self, scope: Scope, receive: Receive, send: Send, pending: Pending) -> None:
        """The caller settled by a flow (first-seen token, session to load or refresh),
        then the app, whose guard refusals keep a refreshed session's new cookie."""
        flow = self._flow(pending.authorization, pending.cookies, pending.host)
        caller: Caller = await self._run(flow)
        if caller.refused is not None:
            await self._refuse(caller.refused, scope, receive, send)
            return
        if caller.set_cookie is not None and scope["type"] == "http":
            send = with_cookies(send, (caller.set_cookie,))
        user = caller.user
        scope["user"] = _ANONYMOUS if user is None else user
        scope["auth"] = self._nobody if user is None else self._credentials_of(user)
        try:
            await self.app(scope, receive, send)
        except GuardDenied as denied:
            await self._denied(denied, scope, receive, send)

    async def _own_path(self, route: object, scope: Scope, receive: Receive, send: Send) -> None:
        """A route of the kit's, or the webhook path (served by the app, for nobody)."""
        if route is _DELIVERY:
            scope["user"] = _ANONYMOUS
            scope["auth"] = self._nobody
            await self.app(scope, receive, send)
            return
        result = await serve(self.runtime, cast(RouteFlow, route), scope, receive)
        await result(scope, receive, send)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Scopes other than HTTP and WebSocket pass through; at the lifespan's end the
        pooled connections are dropped."""
        if scope["type"] == "lifespan":
            if self._failure is not None:
                await _fail_start_up(self._failure, receive, send)
            send = self._on_shutdown(send)
        await self.app(scope, receive, send)

    async def _denied(
        self, denied: GuardDenied, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A guard used as a FastAPI dependency refused the request."""
        if scope["type"] == "websocket":
            await send(closing(websocket_close_code(denied.reply)))
            return
        await response(denied.reply)(scope, receive, send)

    def _credentials_of(self, user: AuthonomyUser) -> KitCredentials:
        """``request.auth`` for ``user``: one per set of scopes, made once."""
        known = self._credentials.get(user.scopes)
        if known is not None:
            return known
        if len(self._credentials) >= _CREDENTIALS_CACHE_SIZE:
            self._credentials.clear()
        granted = KitCredentials(self.runtime, ["authenticated", *sorted(user.scopes)])
        self._credentials[user.scopes] = granted
        return granted

    async def _refuse(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """401 for a bad token, 503 while Authonomy is unreachable; WebSockets are closed."""
        if scope["type"] == "websocket":
            unavailable = isinstance(exc, TEMPORARY_ERRORS)
            await send(closing(_WS_TRY_AGAIN_LATER if unavailable else _WS_POLICY_VIOLATION))
            return
        reply = refusal(self.config, exc, scope["method"], request_headers(scope), target(scope))
        await response(reply)(scope, receive, send)

    def _on_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan scope that drops pooled connections at shutdown."""

        async def send_and_close(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.runtime.reset_connections()
            await send(message)

        return send_and_close


class _InsideStarlette(AuthonomyMiddleware):
    """The middleware as ``app.add_middleware`` places it: inside Starlette's own stack,
    with Starlette's ``ExceptionMiddleware`` further in.

    No server calls it directly there, so ``__call__`` hands back the awaitable of the
    request's handling rather than awaiting it in a frame of its own (a frame saved on
    every request). Nothing is lost by not catching: the guards' refusals are answered
    by the routes that raise them, through the ``ExceptionMiddleware``'s handlers.
    """

    __call__ = AuthonomyMiddleware._serve  # type: ignore[assignment]


async def _fail_start_up(exc: ConfigurationError, receive: Receive, send: Send) -> NoReturn:
    """Answer the lifespan start as failed, with ``exc`` as the server's message (uvicorn
    then exits), and raise it for servers that read the exception instead."""
    message = await receive()
    if message["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.failed", "message": str(exc)})
    raise exc


def _exception_middleware(app: ASGIApp) -> ExceptionMiddleware | None:
    """Starlette's ``ExceptionMiddleware`` when ``app`` is a Starlette middleware stack
    that ends with it (each middleware keeps the next as ``.app``), else ``None``. A
    Starlette application, which a server may serve as it is, has no ``.app``."""
    node: object = app
    for _ in range(_STACK_DEPTH):
        if isinstance(node, ExceptionMiddleware):
            return node
        node = getattr(node, "app", None)
        if node is None:
            return None
    return None
