"""``AuthonomyPlugin``: everything the kit adds to a Litestar app, added at its start.

Litestar runs middleware only on routes it has matched, so the kit's own paths (login,
callback, logout, sessions) are registered as routes whose handler never runs: the
middleware answers them first, as the other adapters' layers do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NoReturn

from litestar import route
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.plugins import InitPluginProtocol
from litestar.types import ASGIApp, Receive, Scope, Send

from .._config import AuthonomyConfig
from .._core.routes import Routes
from .._errors import ConfigurationError
from .._runtime import AuthonomyAsync
from ._guards import Refused, answer_refused, current_user
from ._middleware import Pipeline

__all__ = ["AuthonomyPlugin"]

logger = logging.getLogger("authonomy_integrations")

#: Every method a kit route answers, or refuses with its own 405.
_METHODS = [
    HttpMethod.GET,
    HttpMethod.HEAD,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.PATCH,
    HttpMethod.DELETE,
]


class AuthonomyPlugin(InitPluginProtocol):
    """Signs users in with Authonomy and puts them on every connection.

    ``Litestar(route_handlers, plugins=[AuthonomyPlugin(config=config)])``. The plugin

    * serves ``config.login_path`` (GET, ``?next=&customer=&step_up=``),
      ``config.callback_path`` (GET), ``config.logout_path`` (POST) and
      ``config.sessions_path``;
    * authenticates every HTTP and WebSocket connection by its ``Authorization: Bearer``
      token, else its session cookie (refreshing the session when due): ``request.user``
      is an ``AuthonomyUser`` or an unauthenticated user, ``request.auth`` holds the
      access token's ``scopes``; an invalid bearer token gets 401 and an unreachable
      Authonomy 503 (a WebSocket is closed with 1008 and 1013);
    * provides the signed-in user as the ``current_user`` dependency, and answers the
      guards' refusals.

    A configuration error is logged and fails the app's start-up. ``clock`` replaces
    ``time.time`` for token expiry and session timing (tests).
    """

    def __init__(
        self, config: AuthonomyConfig, *, clock: Callable[[], float] | None = None
    ) -> None:
        self.config = config
        self.runtime: AuthonomyAsync | None = None
        self._failure: ConfigurationError | None = None
        try:
            self.runtime = AuthonomyAsync(config, clock=clock or time.time)
        except ConfigurationError as exc:
            logger.error("AuthonomyPlugin cannot start: %s", exc)
            self._failure = exc

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the middleware (first, so the app's own middleware sees the user), the
        kit's routes, the refusal handler, the ``current_user`` dependency and the
        start-up check."""
        app_config.on_startup.append(self._start)
        app_config.exception_handlers.setdefault(Refused, answer_refused)
        app_config.dependencies.setdefault("current_user", Provide(current_user))
        if self.runtime is None:
            app_config.middleware.insert(0, self._refuse_all)
            return app_config
        pipeline = Pipeline(self.runtime)
        app_config.middleware.insert(0, pipeline.middleware)
        app_config.route_handlers.extend(_kit_routes(self.runtime.routes))
        app_config.on_shutdown.append(self.runtime.reset_connections)
        return app_config

    def _start(self) -> None:
        """Fail the app's start-up with the configuration error, if any."""
        if self._failure is not None:
            raise self._failure

    def _refuse_all(self, app: ASGIApp) -> ASGIApp:
        """Served without a lifespan, every request meets the configuration error."""
        failure = self._failure

        async def refuse(scope: Scope, receive: Receive, send: Send) -> NoReturn:
            raise failure or RuntimeError("AuthonomyPlugin failed to start")

        return refuse


def _kit_routes(routes: Routes) -> list[HTTPRouteHandler]:
    """The routes the middleware answers; none for an API-only app (no login path)."""
    if routes.session_prefix is None:
        return []
    paths = [*routes.by_path, routes.session_prefix + "{handle:str}/end"]

    @route(paths, http_method=_METHODS, include_in_schema=False, name="authonomy")
    async def authonomy() -> None:
        raise NotFoundException()  # never reached: the middleware answers first

    return [authonomy]
