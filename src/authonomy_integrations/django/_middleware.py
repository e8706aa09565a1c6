"""``AuthonomyMiddleware``: the kit's routes and the caller of every request, for Django.

One class serves WSGI and ASGI: Django tells it which at creation (a coroutine
``get_response`` means an async stack), and it drives the engine with
:class:`~authonomy_integrations._runtime.AuthonomySync` or
:class:`~authonomy_integrations._runtime.AuthonomyAsync` accordingly.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from .._core.caller import ASK
from .._core.effects import Flow
from .._core.routes import Answer
from .._core.serving import CallApp, Serving
from .._core.user import AuthonomyUser
from .._errors import ConfigurationError
from .._runtime import AuthonomyAsync, AuthonomySync
from ._http import (
    ANONYMOUS,
    REQUEST_KEY,
    RequestAuth,
    answer_response,
    credentials,
    request_info,
    with_cookie,
)
from ._settings import check_middleware_order, configured, configured_clock, improperly

__all__ = ["AuthonomyMiddleware"]

GetResponse = Callable[[HttpRequest], Any]


class AuthonomyMiddleware:
    """Signs users in with Authonomy and tells views who is calling.

    ``MIDDLEWARE = [..., "authonomy_integrations.django.AuthonomyMiddleware"]``, after
    ``django.contrib.auth``'s ``AuthenticationMiddleware`` when that is installed too:
    listed later, it would replace ``request.user``, so that order stops the app here.
    The configuration is ``settings.AUTHONOMY_CONFIG`` (else
    ``AuthonomyConfig.from_env()``), read when Django creates the middleware. It

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
        check_middleware_order(AuthonomyMiddleware)
        config = configured()
        self.is_async = iscoroutinefunction(get_response)
        runtime_type = AuthonomyAsync if self.is_async else AuthonomySync
        try:
            # The session store is bound to this app's audience here; a store object
            # already serving another app is refused.
            self.runtime = runtime_type(config, clock=configured_clock())
        except ConfigurationError as exc:
            raise improperly(exc) from exc
        if self.is_async:
            markcoroutinefunction(self)
        self.config = config
        serving = Serving(self.runtime.routes, self.runtime.callers)
        self._known = serving.known
        self._serve = serving.serve
        # The runtime's driver, plus the view: an async get_response returns a coroutine,
        # which the async driver awaits like any other effect's result.
        self._runner = self.runtime.runner.with_handlers({CallApp: self._call_view})

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        """Answer the kit's routes, or settle the caller and call the view: at once when
        the core knows the caller from memory, else through its flow."""
        found = credentials(request)
        known = self._known(request.path_info, found[0], found[1])
        if known is ASK:
            return self._runner.run(self._handle(request, found))
        response: HttpResponse | Awaitable[HttpResponse] = self._view(request, known)
        return response

    def _handle(
        self, request: HttpRequest, found: tuple[str | None, str | None]
    ) -> Flow[HttpResponse]:
        """The core's flow for ``request``, its outcome as a Django response."""
        info = functools.partial(request_info, request)
        outcome = yield from self._serve(request, request.path_info, found, info)
        if isinstance(outcome, Answer):
            return answer_response(outcome)
        response: HttpResponse = outcome.response
        return with_cookie(response, outcome.set_cookie) if outcome.set_cookie else response

    def _call_view(self, effect: CallApp) -> Any:
        """The flow's :class:`CallApp`: :meth:`_view`."""
        return self._view(cast(HttpRequest, effect.request), effect.user)

    def _view(self, request: HttpRequest, user: AuthonomyUser | None) -> Any:
        """Tell the views who is calling, and call them (``get_response``)."""
        auth = RequestAuth(self.runtime, user)
        setattr(request, REQUEST_KEY, auth)
        request.user = user if user is not None else ANONYMOUS  # type: ignore[assignment]
        # What django.contrib.auth's middleware offers async code (``await request.auser()``,
        # which Django's own decorators call on async views): the same user.
        request.auser = auth.auser  # type: ignore[assignment]
        request.auth = user.scopes if user is not None else None  # type: ignore[attr-defined]
        return self.get_response(request)
