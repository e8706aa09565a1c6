"""``AuthonomyMiddleware``: the kit's routes and the caller of every request, for Django.

One class serves WSGI and ASGI: Django tells it which at creation (a coroutine
``get_response`` means an async stack), and it drives the engine with
:class:`~authonomy_integrations.runtime.AuthonomySync` or
:class:`~authonomy_integrations.runtime.AuthonomyAsync` accordingly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from ..core import web
from ..core.engine import SessionState
from ..core.routes import TEMPORARY_ERRORS, RequestInfo
from ..core.user import AuthonomyUser, UnauthenticatedUser
from ..errors import ConfigurationError, TokenError
from ..runtime import AuthonomyAsync, AuthonomySync
from ._http import REQUEST_KEY, RequestAuth, answer_response, request_info, to_response, with_cookie
from ._settings import configured, configured_clock, improperly

__all__ = ["AuthonomyMiddleware"]

logger = logging.getLogger("authonomy_integrations")

GetResponse = Callable[[HttpRequest], Any]
_ANONYMOUS = UnauthenticatedUser()
_NO_SESSION = SessionState(None)
#: What stops a request before the view: a bad token, or Authonomy out of reach.
_REFUSED = (TokenError, *TEMPORARY_ERRORS)


class AuthonomyMiddleware:
    """Signs users in with Authonomy and tells views who is calling.

    ``MIDDLEWARE = [..., "authonomy_integrations.django.AuthonomyMiddleware"]``, after
    ``django.contrib.auth``'s ``AuthenticationMiddleware`` when that is installed too (else
    it would replace ``request.user``). The configuration is ``settings.AUTHONOMY_CONFIG``
    (else ``AuthonomyConfig.from_env()``), read when Django creates the middleware. It

    * serves ``login_path`` (GET), ``callback_path`` (GET) and ``logout_path`` (POST);
    * authenticates every other request by its ``Authorization: Bearer`` token, else its
      session cookie (refreshing the session when due), and sets ``request.user`` (an
      ``AuthonomyUser`` or an unauthenticated user) and ``request.auth`` (the user's
      granted scopes, ``None`` without a user);
    * answers an invalid bearer token with 401 and an unreachable Authonomy with 503,
      before any view runs.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        config = configured()
        self.is_async = iscoroutinefunction(get_response)
        runtime_type = AuthonomyAsync if self.is_async else AuthonomySync
        clock = configured_clock()
        try:
            # The session store is bound to this app's audience here; a store object
            # already serving another app is refused.
            self.runtime: AuthonomySync | AuthonomyAsync = runtime_type(config, clock=clock)
        except ConfigurationError as exc:
            raise improperly(exc) from exc
        if self.is_async:
            markcoroutinefunction(self)
        self.config = config
        routes = self.runtime.routes
        self._route = routes.by_path.get
        # Deliveries carry no user; a stray Authorization header must not refuse them.
        self._unauthenticated_paths = frozenset({*routes.by_path, config.webhook_path})
        self._cookie = routes.session_cookie

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        """Answer the kit's routes, or settle the caller and call the view."""
        if self.is_async:
            return self._acall(request)
        runtime = self.runtime
        assert isinstance(runtime, AuthonomySync)
        route = self._route(request.path_info)
        if route is not None:
            return answer_response(runtime.run(route(request_info(request, runtime.routes))))
        user, cookie = None, None
        if request.path_info not in self._unauthenticated_paths:
            try:
                user, cookie = self._caller(request, runtime)
            except _REFUSED as exc:
                return self._refuse(request, exc)
        self._attach(request, user)
        response: HttpResponse = self.get_response(request)
        return with_cookie(response, cookie) if cookie is not None else response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        runtime = self.runtime
        assert isinstance(runtime, AuthonomyAsync)
        route = self._route(request.path_info)
        if route is not None:
            answer = await runtime.run(route(request_info(request, runtime.routes)))
            return answer_response(answer)
        user, cookie = None, None
        if request.path_info not in self._unauthenticated_paths:
            try:
                user, cookie = await self._acaller(request, runtime)
            except _REFUSED as exc:
                return self._refuse(request, exc)
        self._attach(request, user)
        response: HttpResponse = await self.get_response(request)
        return with_cookie(response, cookie) if cookie is not None else response

    def _caller(
        self, request: HttpRequest, runtime: AuthonomySync
    ) -> tuple[AuthonomyUser | None, str | None]:
        """The caller, and the ``Set-Cookie`` a refreshed or ended session needs."""
        authorization = request.META.get("HTTP_AUTHORIZATION")
        if authorization:
            token = web.bearer_token(authorization)
            return (runtime.authenticate_bearer(token) if token else None), None
        cookie = web.cookie_value(request.META.get("HTTP_COOKIE"), self._cookie)
        state = runtime.authenticate_session(cookie) if cookie else _NO_SESSION
        return state.user, self._session_cookie(state)

    async def _acaller(
        self, request: HttpRequest, runtime: AuthonomyAsync
    ) -> tuple[AuthonomyUser | None, str | None]:
        authorization = request.META.get("HTTP_AUTHORIZATION")
        if authorization:
            token = web.bearer_token(authorization)
            return (await runtime.authenticate_bearer(token) if token else None), None
        cookie = web.cookie_value(request.META.get("HTTP_COOKIE"), self._cookie)
        state = await runtime.authenticate_session(cookie) if cookie else _NO_SESSION
        return state.user, self._session_cookie(state)

    def _session_cookie(self, state: SessionState) -> str | None:
        config = self.config
        if state.set_cookie is not None:
            return web.set_cookie(config, self._cookie, state.set_cookie, config.session_max_age)
        if state.clear_cookie:
            return web.clear_cookie(config, self._cookie)
        return None

    def _attach(self, request: HttpRequest, user: AuthonomyUser | None) -> None:
        setattr(request, REQUEST_KEY, RequestAuth(self.runtime, user))
        request.user = user if user is not None else _ANONYMOUS  # type: ignore[assignment]
        request.auth = user.scopes if user is not None else None  # type: ignore[attr-defined]

    def _refuse(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        """401 for a bad token; 503 while Authonomy is out of reach (the cookie is kept)."""
        info: RequestInfo = request_info(request)
        if isinstance(exc, TEMPORARY_ERRORS):
            logger.warning("request answered 503: %s", exc)
            return to_response(web.unavailable(exc, info.method, info.headers))
        assert isinstance(exc, TokenError)
        reply = web.unauthenticated(self.config, info.method, info.headers, info.target, exc)
        return to_response(reply)
