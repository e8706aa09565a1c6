"""The extension's per-app and per-request state, and core replies as Quart responses.

The app's :class:`~authonomy_integrations._runtime.AuthonomyAsync` lives in
``app.extensions["authonomy"]``; the caller of the current request or WebSocket, settled
before Quart dispatches it (see ``_asgi``), is ``scope["authonomy.user"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

from quart import Response, current_app, has_websocket_context, request, websocket
from werkzeug.local import LocalProxy

from .._core import web
from .._core.routes import RequestInfo
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._runtime import AuthonomyAsync
from ._asgi import USER_KEY, client_ip

__all__ = [
    "EXTENSION_KEY",
    "connection",
    "cookie_header",
    "current_user",
    "request_info",
    "request_user",
    "runtime",
    "to_response",
]

EXTENSION_KEY = "authonomy"
_MISSING = object()
_ANONYMOUS = UnauthenticatedUser()


def runtime() -> AuthonomyAsync:
    """The current app's runtime; a clear error when the extension is not installed."""
    try:
        kit: AuthonomyAsync = current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "Authonomy is not set up on this app: call Authonomy(app, config=...) "
            "or authonomy.init_app(app) first"
        ) from None
    return kit


def connection() -> Any:
    """The current request, or the current WebSocket inside a WebSocket route."""
    return websocket if has_websocket_context() else request


def request_user() -> AuthonomyUser | None:
    """The signed-in user of the current request or WebSocket, or ``None``."""
    user: AuthonomyUser | None = connection().scope.get(USER_KEY, _MISSING)
    if user is _MISSING:
        runtime()  # raises when the extension is missing, which is the likely mistake
        return None
    return user


def _current_user() -> AuthonomyUser | UnauthenticatedUser:
    return request_user() or _ANONYMOUS


current_user = cast(AuthonomyUser | UnauthenticatedUser, LocalProxy(_current_user))
"""The current request's :class:`AuthonomyUser`, or an :class:`UnauthenticatedUser`."""


def request_info(*, route: bool = False) -> RequestInfo:
    """What the core needs to know about the current request or WebSocket handshake.

    Query and cookies are parsed only for the kit's own routes (``route=True``); a guard
    needs neither.
    """
    current = connection()
    scope = current.scope
    info = RequestInfo(
        method=scope.get("method", "GET"),  # a WebSocket handshake has none
        # Werkzeug's headers look names up case-insensitively, as the core expects.
        headers=cast(Mapping[str, str], current.headers),
        target=web.asgi_target(scope),
        query={},
        # The scope's, not ``remote_addr``: Quart puts "<local>" there for no address.
        client_ip=client_ip(scope),
        request=current,
        prefix=web.url_prefix(scope.get("root_path")),
    )
    if not route:
        return info
    routes = runtime().routes
    # The core's parser, not Werkzeug's: a cookie named twice must count as absent.
    cookies = cookie_header()
    return dataclasses.replace(
        info,
        query=current.args,
        session_cookie=web.cookie_value(cookies, routes.session_cookie),
        login_cookie=web.cookie_value(cookies, routes.login_cookie),
    )


def cookie_header() -> str | None:
    """The current request's ``Cookie`` header as one value: HTTP/2 may split cookies
    over several headers (RFC 9113), and Werkzeug's ``get`` would see only the first, so
    a session cookie in another would be missed by logout and ``access_token``."""
    return web.asgi_cookie_header(connection(), None)


def to_response(reply: web.Reply, *set_cookies: str) -> Response:
    """A framework-free reply as a Quart response, with extra ``Set-Cookie`` values."""
    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers:
        response.headers.add(name, value)
    for cookie in set_cookies:
        response.headers.add("Set-Cookie", cookie)
    return response
