"""``AuthonomyMiddleware``: the kit's routes and the caller of every request, for Django.

One class serves WSGI and ASGI: Django tells it which at creation (a coroutine
``get_response`` means an async stack), and it drives the engine with
:class:`~authonomy_integrations.runtime.AuthonomySync` or
:class:`~authonomy_integrations.runtime.AuthonomyAsync` accordingly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from .._drivers import AsyncRunner, SyncRunner
from ..core.caller import ASK, Caller, refusal
from ..core.effects import Flow
from ..core.routes import RequestInfo
from ..core.user import AuthonomyUser, UnauthenticatedUser
from ..errors import ConfigurationError
from ..runtime import AuthonomyAsync, AuthonomySync
from ._http import REQUEST_KEY, RequestAuth, answer_response, request_info, to_response, with_cookie
from ._settings import configured, configured_clock, improperly

__all__ = ["AuthonomyMiddleware"]

logger = logging.getLogger("authonomy_integrations")

GetResponse = Callable[[HttpRequest], Any]
_ANONYMOUS = UnauthenticatedUser()


@dataclass(frozen=True, slots=True)
class _CallView:
    """The effect of running the view (``get_response``) for ``request``."""

    request: HttpRequest


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
        self._known = self.runtime.callers.known
        self._flow = self.runtime.callers.flow
        # The runtime's driver, plus the view: an async get_response returns a coroutine,
        # which the async driver awaits like any other effect's result.
        runtime = self.runtime
        handlers: dict[type, Callable[[Any], Any]] = {
            **runtime.runner.handlers,
            _CallView: lambda effect: get_response(effect.request),
        }
        self._runner: SyncRunner | AsyncRunner
        if isinstance(runtime, AuthonomyAsync):
            self._runner = AsyncRunner(runtime.runner.http, handlers)
        else:
            self._runner = SyncRunner(runtime.runner.http, handlers)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        """Answer the kit's routes, or settle the caller and call the view."""
        result: HttpResponse | Awaitable[HttpResponse] = self._runner.run(self._handle(request))
        return result

    def _handle(self, request: HttpRequest) -> Flow[HttpResponse]:
        """One request as a flow, run by the runtime's driver (blocking or async) with one
        more effect, :class:`_CallView`, where the view runs."""
        route = self._route(request.path_info)
        if route is not None:
            answer = yield from route(request_info(request, self.runtime.routes))
            return answer_response(answer)
        user, cookie = None, None
        if request.path_info not in self._unauthenticated_paths:
            meta = request.META
            authorization, cookies = meta.get("HTTP_AUTHORIZATION"), meta.get("HTTP_COOKIE")
            known = self._known(authorization, cookies)
            if known is ASK:
                caller: Caller = yield from self._flow(authorization, cookies)
                if caller.refused is not None:
                    return self._refuse(request, caller.refused)
                user, cookie = caller.user, caller.set_cookie
            else:
                user = known
        self._attach(request, user)
        response: HttpResponse = yield _CallView(request)
        return with_cookie(response, cookie) if cookie is not None else response

    def _attach(self, request: HttpRequest, user: AuthonomyUser | None) -> None:
        setattr(request, REQUEST_KEY, RequestAuth(self.runtime, user))
        request.user = user if user is not None else _ANONYMOUS  # type: ignore[assignment]
        request.auth = user.scopes if user is not None else None  # type: ignore[attr-defined]

    def _refuse(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        """401 for a bad token; 503 while Authonomy is out of reach (the cookie is kept)."""
        info: RequestInfo = request_info(request)
        return to_response(refusal(self.config, exc, info.method, info.headers, info.target))
