"""``AuthonomyMiddleware``: pure ASGI authentication for Starlette and FastAPI apps."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import AuthonomyConfig
from ..core import web
from ..core.routes import TEMPORARY_ERRORS
from ..core.user import AuthonomyUser, UnauthenticatedUser
from ..errors import TokenError
from ..runtime import AuthonomyAsync
from ._asgi import (
    cookie_value,
    credential_headers,
    request_headers,
    response,
    target,
    with_cookies,
)
from ._guards import GuardDenied
from ._routes import serve
from ._transport import ReopeningTransport

__all__ = ["AuthonomyMiddleware"]

_ANONYMOUS = UnauthenticatedUser()
_NO_CREDENTIALS = AuthCredentials()
_CREDENTIALS_CACHE_SIZE = 1024
#: WebSocket close codes (RFC 6455): refused by policy, and "try again later".
_WS_POLICY_VIOLATION = 1008
_WS_TRY_AGAIN_LATER = 1013
#: What stops a request before the app: a bad token, or Authonomy out of reach.
_REFUSED = (TokenError, *TEMPORARY_ERRORS)


class AuthonomyMiddleware:
    """Signs users in with Authonomy and puts them in the scope.

    ``app.add_middleware(AuthonomyMiddleware, config=config)``. The middleware

    * serves ``config.login_path`` (GET, ``?next=&customer=&step_up=``),
      ``config.callback_path`` (GET) and ``config.logout_path`` (POST);
    * authenticates every other HTTP and WebSocket request by its ``Authorization:
      Bearer`` token, else its session cookie (refreshing the session when due), and sets
      ``scope["user"]`` (``request.user``: an ``AuthonomyUser`` or an unauthenticated
      user), ``scope["auth"]`` (``request.auth``: ``AuthCredentials`` with
      ``"authenticated"`` and the token's scopes, so Starlette's ``@requires`` works) and
      ``scope["authonomy"]`` (the runtime the guards use);
    * answers an invalid bearer token with 401 and an unreachable Authonomy with 503
      (WebSockets are closed with 1008 and 1013 instead; they get the user but no
      cookie updates), and answers the guards' refusals raised as FastAPI dependencies.

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
        self._transport = ReopeningTransport()
        http = httpx.AsyncClient(timeout=config.http_timeout, transport=self._transport)
        self.runtime = AuthonomyAsync(config, http_client=http, clock=clock or time.time)
        self._engine = self.runtime.engine
        self._route = self.runtime.routes.route
        self._cached_bearer = self._engine.bearer_cache.get
        self._clock = self._engine.clock
        self._session_cookie = web.session_cookie_name(config)
        self._credentials: dict[frozenset[str], AuthCredentials] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the kit's routes, or authenticate the request and call the app."""
        # One function on purpose: it runs for every request, and a repeat bearer token
        # should cost a header scan and a cache lookup, not a chain of coroutines.
        kind = scope["type"]
        if kind == "http":
            route = self._route(scope["path"])
            if route is not None:
                result = await serve(self.runtime, route, scope, receive)
                await result(scope, receive, send)
                return
        elif kind == "lifespan":
            await self.app(scope, receive, self._on_shutdown(send))
            return
        elif kind != "websocket":
            await self.app(scope, receive, send)
            return
        scope["authonomy"] = self.runtime
        authorization, cookies = credential_headers(scope["headers"])
        try:
            token = web.bearer_token(authorization.decode("latin-1")) if authorization else None
            if token is not None:
                user = self._cached_bearer(token, self._clock())
                if user is None:
                    user = await self.runtime.authenticate_bearer(token)
                set_cookie = None
            elif cookies is not None:
                user, set_cookie = await self._session(cookie_value(cookies, self._session_cookie))
            else:
                user = set_cookie = None
        except _REFUSED as exc:
            await self._refuse(exc, scope, receive, send)
            return
        self._sign_in(scope, user)
        if set_cookie is not None and kind == "http":
            send = with_cookies(send, (set_cookie,))
        try:
            await self.app(scope, receive, send)
        except GuardDenied as denied:
            await response(denied.reply)(scope, receive, send)

    async def _session(self, cookie: str | None) -> tuple[AuthonomyUser | None, str | None]:
        """The session's user and the ``Set-Cookie`` value to send along, if any."""
        if cookie is None:
            return None, None
        state = await self.runtime.authenticate_session(cookie)
        config = self.config
        if state.set_cookie is not None:
            value = state.set_cookie
            return state.user, web.set_cookie(
                config, self._session_cookie, value, config.session_max_age
            )
        if state.clear_cookie:
            return state.user, web.clear_cookie(config, self._session_cookie)
        return state.user, None

    def _sign_in(self, scope: Scope, user: AuthonomyUser | None) -> None:
        if user is None:
            scope["user"] = _ANONYMOUS
            scope["auth"] = _NO_CREDENTIALS
            return
        scope["user"] = user
        credentials = self._credentials.get(user.scopes)
        if credentials is None:
            if len(self._credentials) >= _CREDENTIALS_CACHE_SIZE:
                self._credentials.clear()
            credentials = AuthCredentials(["authenticated", *sorted(user.scopes)])
            self._credentials[user.scopes] = credentials
        scope["auth"] = credentials

    async def _refuse(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """401 for a bad token, 503 while Authonomy is unreachable; WebSockets are closed."""
        unavailable = isinstance(exc, TEMPORARY_ERRORS)
        if scope["type"] == "websocket":
            code = _WS_TRY_AGAIN_LATER if unavailable else _WS_POLICY_VIOLATION
            await send({"type": "websocket.close", "code": code, "reason": ""})
            return
        method, headers = scope["method"], request_headers(scope)
        if unavailable:
            reply = web.unavailable(exc, method, headers)
        else:
            error = exc if isinstance(exc, TokenError) else None
            reply = web.unauthenticated(self.config, method, headers, target(scope), error=error)
        await response(reply)(scope, receive, send)

    def _on_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan scope that drops pooled connections at shutdown."""

        async def send_and_close(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self._transport.reset()
            await send(message)

        return send_and_close
