"""``AuthonomyMiddleware``: pure ASGI authentication for Starlette and FastAPI apps.

Each request runs the core's pipeline (:class:`~.._core.serving.Serving`): the caller
known from memory goes straight to the app, anything else through the serving flow,
whose :class:`~.._core.serving.CallApp` this module answers by exposing the user in the
scope and calling the app. Everything here translates between ASGI and the core.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NoReturn

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._config import AuthonomyConfig
from .._core.caller import Pending
from .._core.routes import Answer, RequestInfo, Routes
from .._core.serving import CallApp, Serving, route_path
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._core.web import url_prefix
from .._errors import ConfigurationError
from .._runtime import AuthonomyAsync
from ._asgi import (
    PREFIX_KEY,
    KitCredentials,
    client_ip,
    closing,
    request_headers,
    response,
    target,
    with_cookies,
)
from ._refusals import GuardDenied, prepare_mounted, websocket_close_code
from ._routes import request_info

__all__ = ["AuthonomyMiddleware"]

logger = logging.getLogger("authonomy_integrations")

_ANONYMOUS = UnauthenticatedUser()
_CREDENTIALS_CACHE_SIZE = 1024


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
      cookie updates), and the refusals of guards used as FastAPI dependencies (see
      ``_refusals``).

    ``clock`` replaces ``time.time`` for token expiry and session timing (tests).
    """

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
        self._prepared = False
        try:
            self.runtime = AuthonomyAsync(config, clock=clock or time.time)
        except ConfigurationError as exc:
            logger.error("AuthonomyMiddleware cannot start: %s", exc)
            self._cannot_start(exc)
            return
        serving = Serving(self.runtime.routes, self.runtime.callers)
        self._known = serving.known_in
        self._serve = serving.serve
        self._runner = self.runtime.runner.with_handlers({CallApp: self._call_app})
        self._nobody = KitCredentials(self.runtime)
        self._credentials: dict[frozenset[str], KitCredentials] = {}
        # Wrapping an application, the middleware is made before the application builds
        # its stack: the refusal handler is registered there now (see ``_refusals``).
        prepare_mounted(app)

    def _cannot_start(self, exc: ConfigurationError) -> None:
        """Keep ``exc`` for the server. Starlette builds its middleware in the lifespan
        start, where uvicorn's default lifespan mode takes an exception for "lifespan
        unsupported" and serves on, answering every request with a 500. Answered as a
        failed start-up instead (see :meth:`_other`), it stops the server. Should a
        request come all the same (no lifespan), the caller lookup, which every request
        passes through, raises it."""
        self._failure = exc

        def refuse(*_: object, **__: object) -> NoReturn:
            raise exc

        self._known = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the kit's routes, or settle the caller and call the app."""
        if not self._prepared:
            self._prepare(scope)
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self._other(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path")
        if root:
            scope[PREFIX_KEY] = url_prefix(root)
            path = route_path(path, root)
        user = self._known(path, scope["headers"], kind == "websocket")
        if user is None:
            scope["user"] = _ANONYMOUS
            scope["auth"] = self._nobody
        elif isinstance(user, Pending):
            await self._settle(scope, receive, send, user)
            return
        else:
            scope["user"] = user
            # ``_credentials_of``, with its lookup inline.
            scope["auth"] = self._credentials.get(user.scopes) or self._credentials_of(user)
        try:
            await self.app(scope, receive, send)
        except GuardDenied as denied:
            await response(denied.reply)(scope, receive, send)

    async def _settle(self, scope: Scope, receive: Receive, send: Send, pending: Pending) -> None:
        """The core's serving flow: a route of the kit's, a refusal, or the app."""
        credentials = (pending.authorization, pending.cookies)
        request = (scope, receive, send)
        info = _Info(self.runtime, scope, receive)
        path = route_path(scope["path"], scope.get("root_path", ""))
        outcome = await self._runner.run(self._serve(request, path, credentials, info))
        if isinstance(outcome, Answer):
            await self._answer(outcome, scope, receive, send)

    async def _call_app(self, effect: CallApp) -> None:
        """Tell the app who is calling and call it; a refreshed session's cookie rides
        on the response, a guard's refusal too."""
        scope, receive, send = effect.request
        user = effect.user
        scope["user"] = _ANONYMOUS if user is None else user
        scope["auth"] = self._nobody if user is None else self._credentials_of(user)
        if effect.set_cookie is not None and scope["type"] == "http":
            send = with_cookies(send, (effect.set_cookie,))
        try:
            await self.app(scope, receive, send)
        except GuardDenied as denied:
            await response(denied.reply)(scope, receive, send)

    async def _answer(self, answer: Answer, scope: Scope, receive: Receive, send: Send) -> None:
        """The kit's answer; a WebSocket is closed instead (1013 for a 503, else 1008)."""
        if scope["type"] == "websocket":
            await send(closing(websocket_close_code(answer.reply)))
            return
        await response(answer.reply, *answer.cookies)(scope, receive, send)

    def _prepare(self, scope: Scope) -> None:
        """Once, before anything reaches the app: the refusal handler for the
        applications mounted in the one that added the middleware (see ``_refusals``)."""
        self._prepared = True
        prepare_mounted(scope.get("app"))

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Scopes other than HTTP and WebSocket pass through; at the lifespan's end the
        pooled connections are dropped."""
        if scope["type"] == "lifespan":
            if self._failure is not None:
                await _fail_start_up(self._failure, receive, send)
            send = self._on_shutdown(send)
        await self.app(scope, receive, send)

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

    def _on_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan scope that drops pooled connections at shutdown."""

        async def send_and_close(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.runtime.reset_connections()
            await send(message)

        return send_and_close


async def _fail_start_up(exc: ConfigurationError, receive: Receive, send: Send) -> NoReturn:
    """Answer the lifespan start as failed, with ``exc`` as the server's message (uvicorn
    then exits), and raise it for servers that read the exception instead."""
    message = await receive()
    if message["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.failed", "message": str(exc)})
    raise exc


class _Info:
    """The request read for the core, when the serving flow asks (``info(routes)``)."""

    def __init__(self, runtime: AuthonomyAsync, scope: Scope, receive: Receive) -> None:
        self.runtime, self.scope, self.receive = runtime, scope, receive

    def __call__(self, routes: Routes | None) -> RequestInfo:
        scope = self.scope
        if routes is not None and scope["type"] == "http":
            return request_info(self.runtime, scope, self.receive)
        method: str = scope.get("method", "GET")  # a WebSocket handshake has none
        headers, prefix = request_headers(scope), scope.get(PREFIX_KEY, "")
        return RequestInfo(method, headers, target(scope), {}, client_ip(scope), prefix=prefix)
