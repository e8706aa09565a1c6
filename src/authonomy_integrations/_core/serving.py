"""One request through the kit, framework-free: the kit's own route, or the app with its
caller settled. This is the request pipeline of every adapter.

An adapter asks :meth:`Serving.known` (WSGI: ``str`` headers) or :meth:`Serving.known_in`
(ASGI: the scope's raw header pairs) first. When memory answers (a repeat caller, nobody,
a path served for nobody) the adapter exposes that user and calls the app at once: no
flow, no generator. Otherwise it drives :meth:`Serving.serve`, a flow: it answers
``login_path``, ``callback_path`` and ``logout_path`` itself, settles who is calling (the
:class:`~.caller.Caller` flow), refuses a bad token or an unreachable Authonomy, and
otherwise yields :class:`CallApp`, whose result is the app's response. The adapter's
driver answers :class:`CallApp` by exposing the user to the app and calling it, and the
adapter writes out what the flow returns: an :class:`~.routes.Answer` of the kit's, or
:class:`Passed`, the app's response with the ``Set-Cookie`` value to add.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import web
from .caller import ASK, Ask, Caller, Callers, Pending, refusal
from .effects import Flow
from .routes import Answer, RequestInfo, Routes
from .user import AuthonomyUser

__all__ = ["CallApp", "Passed", "Serving", "route_info", "route_path"]

Credentials = bytes | str | None


@dataclass(frozen=True, slots=True)
class CallApp:
    """Effect: call the app with ``request``, whose caller is ``user`` (``None``: nobody).

    The result is the app's response, whatever type the framework gives it.
    ``set_cookie`` is the ``Set-Cookie`` value :class:`Passed` carries too, here for
    servers whose app starts the response itself (WSGI's ``start_response``, ASGI's
    ``send``): the adapter adds it on the way out.
    """

    request: Any
    user: AuthonomyUser | None
    set_cookie: str | None = None


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


def route_path(path: str, root_path: str) -> str:
    """The path an ASGI app routes by: ``path`` without the ``root_path`` it is served
    under (``/shop``). ASGI servers give the full path (uvicorn's ``--root-path`` puts
    the prefix back on when a proxy stripped it); frameworks route by what follows the
    prefix, and so do the kit's paths (sign-in routes, the webhook's). A path that does
    not continue the prefix at a ``/`` is left whole, as Starlette leaves it."""
    if not root_path or not path.startswith(root_path):
        return path
    rest = path[len(root_path) :]
    if not rest:
        return ""
    return rest if rest.startswith("/") else path


#: :meth:`Serving.known_in`'s answer for a kit route: the flow answers it.
_ROUTE = Pending(None, None)


def _no_route(path: str) -> None:
    """No kit route at any path (the adapter serves them as views of its own)."""
    return None


class Serving:
    """The kit's part of every request, for one runtime's routes and callers.

    ``answers_routes=False`` leaves the kit's routes to the app (an adapter that mounts
    them as the framework's own views): their paths then reach the app for nobody, like
    the webhook path.
    """

    def __init__(self, routes: Routes, callers: Callers, *, answers_routes: bool = True) -> None:
        self.routes = routes
        self._route = routes.finder(routes.by_path) if answers_routes else _no_route
        # The paths memory answers without a caller: ``ASK`` sends a kit route to
        # :meth:`serve`; ``None`` serves the path (the webhook's) for nobody.
        self._own: dict[str, Ask | None] = dict.fromkeys(routes.unauthenticated, None)
        if answers_routes:
            self._own.update(dict.fromkeys(routes.by_path, ASK))
        #: Where ``{sessions_path}/{id}/end`` paths start (routes found by prefix); a
        #: tuple, so that "no such routes" is ``()``, which no path starts with.
        prefix = routes.session_prefix if answers_routes else None
        self._prefix: tuple[str, ...] = () if prefix is None else (prefix,)
        self._known = callers.known
        self._flow = callers.flow
        self._tenants = callers.origins.tenants
        self._refused_on_socket = callers.refused_on_socket

    def known(
        self, path: str, authorization: str | None, cookies: str | None
    ) -> AuthonomyUser | Ask | None:
        """The caller at ``path`` when memory answers (``None``: nobody, call the app
        for nobody), else :data:`~.caller.ASK`: run :meth:`serve`.

        ``authorization`` and ``cookies`` are the header values as a WSGI server gives
        them (``None`` or empty when absent).
        """
        own = self._own
        if path in own:
            return own[path]
        if path.startswith(self._prefix) and self._route(path):
            return ASK
        return self._known(authorization, cookies)

    def known_in(
        self, path: str, headers: Iterable[tuple[bytes, bytes]], websocket: bool = False
    ) -> AuthonomyUser | Pending | None:
        """:meth:`known` for an ASGI scope's raw header pairs (lower-case names), read in
        one pass: :class:`~.caller.Pending` (with the credentials it found, for
        :meth:`serve`) instead of ``ASK``.

        Repeated headers are combined as RFC 9110 (section 5.3) says and WSGI servers do:
        ``Cookie`` values joined with ``"; "`` (HTTP/2 may split them, RFC 9113), and
        ``Authorization`` values with ``", "``, which makes repeated bearer tokens one
        malformed credential (401) instead of letting one of them win.

        ``websocket``: the request is a WebSocket handshake (ASGI's ``"websocket"``
        scope). Its session cookie then signs the caller in only when its ``Origin`` is
        the app's own (:meth:`~.caller.Callers.refused_on_socket`); otherwise the caller
        is nobody. A bearer token is judged as on any request: a browser cannot set
        ``Authorization`` on a WebSocket, so no hostile page can send one for the user.
        ``headers`` is then read twice (a list, as ASGI gives them).
        """
        own = self._own
        if path in own:
            return _ROUTE if own[path] is ASK else None
        if path.startswith(self._prefix) and self._route(path):
            return _ROUTE
        authorization = cookies = None
        for name, value in headers:
            if name == b"authorization":
                authorization = value if authorization is None else authorization + b", " + value
            elif name == b"cookie":
                cookies = value if cookies is None else cookies + b"; " + value
        if websocket and not authorization and self._refused_on_socket(cookies, headers):
            return None
        known = self._known(authorization, cookies)
        if known is not ASK:
            return known
        # An ``Authorization`` header decides alone, as in :meth:`Callers.known`.
        return Pending(authorization, None) if authorization else Pending(None, cookies)

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
        if path not in self._own:
            known = self._known(*credentials)
            if known is ASK:
                host = info(None).headers.get("host") if self._tenants else None
                caller: Caller = yield from self._flow(*credentials, host)
                if caller.refused is not None:
                    return self._refuse(info(None), caller.refused)
                user, cookie = caller.user, caller.set_cookie
            else:
                user = known
        response = yield CallApp(request, user, cookie)
        return Passed(response, cookie)

    def _refuse(self, info: RequestInfo, exc: Exception) -> Answer:
        """401 for a bad token; 503 while Authonomy is out of reach (the cookie is kept)."""
        config = self.routes.config
        return Answer(refusal(config, exc, info.method, info.headers, info.target, info.prefix))
