"""``AuthonomyMiddleware``: pure ASGI authentication for Starlette and FastAPI apps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import AuthonomyConfig
from ..core import web
from ..core.engine import SessionState
from ..core.routes import TEMPORARY_ERRORS
from ..core.user import AuthonomyUser, UnauthenticatedUser
from ..errors import ConfigurationError, TokenError
from ..runtime import AuthonomyAsync
from ._asgi import (
    credential_headers,
    request_headers,
    response,
    target,
    with_cookies,
)
from ._guards import GuardDenied, websocket_close_code
from ._routes import serve

__all__ = ["AuthonomyMiddleware"]

logger = logging.getLogger("authonomy_integrations")

_ANONYMOUS = UnauthenticatedUser()
_NO_SESSION = SessionState(None)
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
        try:
            self.runtime = AuthonomyAsync(config, clock=clock or time.time)
        except ConfigurationError as exc:
            # Starlette builds its middleware in the server's lifespan start, and uvicorn's
            # default lifespan mode reports a failure there only as "lifespan unsupported":
            # the log line is what makes the cause visible when the server starts.
            logger.error("AuthonomyMiddleware cannot start: %s", exc)
            raise
        self._engine = self.runtime.engine
        self._route = self.runtime.routes.by_path.get
        self._cached_bearer = self._engine.fast_bearer()
        self._clock = self._engine.clock
        self._cookie = web.session_cookie_name(config)
        self._cached_session = self._engine.recent_sessions.get
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
        set_cookie = None
        try:
            if authorization is not None:
                user = None
                if authorization.startswith(b"Bearer "):  # a cache hit was verified before
                    user = self._cached_bearer(authorization[7:].decode("latin-1"), self._clock())
                if user is None:
                    user = await self._bearer(authorization)
            elif cookies is not None:
                state = self._state(web.cookie_value(cookies.decode("latin-1"), self._cookie))
                if state is None:
                    state = await self._session(cookies)
                user = state.user
                if state.set_cookie is not None or state.clear_cookie:
                    set_cookie = self._session_cookie_header(state)
            else:
                user = None
        except _REFUSED as exc:
            await self._refuse(exc, scope, receive, send)
            return
        if user is None:
            scope["user"] = _ANONYMOUS
            scope["auth"] = _NO_CREDENTIALS
        else:
            scope["user"] = user
            scope["auth"] = self._credentials.get(user.scopes) or self._new_credentials(user)
        if set_cookie is not None and kind == "http":
            send = with_cookies(send, (set_cookie,))
        try:
            await self.app(scope, receive, send)
        except GuardDenied as denied:
            if kind == "websocket":
                code = websocket_close_code(denied.reply)
                await send({"type": "websocket.close", "code": code, "reason": ""})
                return
            await response(denied.reply)(scope, receive, send)

    def _state(self, cookie: str | None) -> SessionState | None:
        """The remembered state of a repeat session cookie (``None``: ask the runtime)."""
        return self._cached_session(cookie, self._clock()) if cookie is not None else _NO_SESSION

    async def _bearer(self, authorization: bytes) -> AuthonomyUser | None:
        token = web.bearer_token(authorization.decode("latin-1"))
        return await self.runtime.authenticate_bearer(token) if token is not None else None

    async def _session(self, cookies: bytes) -> SessionState:
        cookie = web.cookie_value(cookies.decode("latin-1"), self._cookie)
        return await self.runtime.authenticate_session(cookie) if cookie else _NO_SESSION

    def _session_cookie_header(self, state: SessionState) -> str:
        """``Set-Cookie`` for a refreshed session, or one that deletes an ended one."""
        config = self.config
        if state.set_cookie is not None:
            return web.set_cookie(config, self._cookie, state.set_cookie, config.session_max_age)
        return web.clear_cookie(config, self._cookie)

    def _new_credentials(self, user: AuthonomyUser) -> AuthCredentials:
        if len(self._credentials) >= _CREDENTIALS_CACHE_SIZE:
            self._credentials.clear()
        credentials = AuthCredentials(["authenticated", *sorted(user.scopes)])
        self._credentials[user.scopes] = credentials
        return credentials

    async def _refuse(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """401 for a bad token, 503 while Authonomy is unreachable; WebSockets are closed."""
        unavailable = isinstance(exc, TEMPORARY_ERRORS)
        if scope["type"] == "websocket":
            code = _WS_TRY_AGAIN_LATER if unavailable else _WS_POLICY_VIOLATION
            await send({"type": "websocket.close", "code": code, "reason": ""})
            return
        method, headers = scope["method"], request_headers(scope)
        if unavailable:
            logger.warning("request answered 503: %s", exc)
            reply = web.unavailable(exc, method, headers)
        else:
            error = exc if isinstance(exc, TokenError) else None
            reply = web.unauthenticated(self.config, method, headers, target(scope), error=error)
        await response(reply)(scope, receive, send)

    def _on_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan scope that drops pooled connections at shutdown."""

        async def send_and_close(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.runtime.reset_connections()
            await send(message)

        return send_and_close
