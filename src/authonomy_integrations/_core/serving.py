"""One request through the kit, framework-free: the kit's own route, or the app with its
caller settled.

:meth:`Serving.serve` is a flow. It answers ``login_path``, ``callback_path`` and
``logout_path`` itself; for any other path it settles who is calling (the repeat caller
from memory, else the :class:`~.caller.Caller` flow), refuses a bad token or an
unreachable Authonomy, and otherwise yields :class:`CallApp`, whose result is the app's
response. An adapter's driver answers :class:`CallApp` by exposing the user to the app
and calling it, and writes out what the flow returns: an :class:`~.routes.Answer` of the
kit's, or :class:`Passed`, the app's response with the ``Set-Cookie`` value to add.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import web
from .caller import ASK, Caller, Callers, refusal
from .effects import Flow
from .routes import Answer, RequestInfo, Routes
from .user import AuthonomyUser

__all__ = ["CallApp", "Passed", "Serving", "route_info"]

Credentials = bytes | str | None


@dataclass(frozen=True, slots=True)
class CallApp:
    """Effect: call the app with ``request``, whose caller is ``user`` (``None``: nobody).

    The result is the app's response, whatever type the framework gives it.
    """

    request: Any
    user: AuthonomyUser | None


@dataclass(frozen=True, slots=True)
class Passed:
    """The app's response, and a ``Set-Cookie`` value to add to it (a refreshed session)."""

    response: Any
    set_cookie: str | None


def route_info(
    routes: Routes, info: RequestInfo, query: Mapping[str, str], cookies: str | None
) -> RequestInfo:
    """``info`` with what the kit's routes read besides: the query, and the kit's cookies
    out of the ``Cookie`` header, by the core's parser (a name sent twice counts as
    absent, where frameworks' lenient parsers pick one)."""
    return dataclasses.replace(
        info,
        query=query,
        session_cookie=web.cookie_value(cookies, routes.session_cookie),
        login_cookie=web.cookie_value(cookies, routes.login_cookie),
    )


class Serving:
    """The kit's part of every request, for one runtime's routes and callers."""

    def __init__(self, routes: Routes, callers: Callers) -> None:
        self.routes = routes
        self._route = routes.finder(routes.by_path)
        self._unauthenticated = routes.unauthenticated
        self._known = callers.known
        self._flow = callers.flow
        self._tenants = callers.origins.tenants

    def serve(
        self,
        request: Any,
        path: str,
        credentials: tuple[Credentials, Credentials],
        info: Callable[[Routes | None], RequestInfo],
    ) -> Flow[Answer | Passed]:
        """Serve ``request`` at ``path``.

        ``credentials`` are the ``Authorization`` and ``Cookie`` header values as the
        server gave them; ``info(routes)`` reads the request for the core (with
        ``routes``: the query and cookies too, which only the kit's routes need).
        """
        route = self._route(path)
        if route is not None:
            answer: Answer = yield from route(info(self.routes))
            return answer
        user, cookie = None, None
        if path not in self._unauthenticated:
            known = self._known(*credentials)
            if known is ASK:
                host = info(None).headers.get("host") if self._tenants else None
                caller: Caller = yield from self._flow(*credentials, host)
                if caller.refused is not None:
                    return self._refuse(info(None), caller.refused)
                user, cookie = caller.user, caller.set_cookie
            else:
                user = known
        response = yield CallApp(request, user)
        return Passed(response, cookie)

    def _refuse(self, info: RequestInfo, exc: Exception) -> Answer:
        """401 for a bad token; 503 while Authonomy is out of reach (the cookie is kept)."""
        config = self.routes.config
        return Answer(refusal(config, exc, info.method, info.headers, info.target))
