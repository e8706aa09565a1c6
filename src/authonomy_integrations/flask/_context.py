"""The extension's per-app and per-request state, and core replies as Flask responses.

The app's :class:`~authonomy_integrations._runtime.AuthonomySync` lives in
``app.extensions["authonomy"]``; the caller of the current request, settled before
Flask dispatches it (see ``_wsgi``), is ``request.environ["authonomy.user"]``.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from typing import cast

from flask import Request, Response, current_app, request
from werkzeug.local import LocalProxy

from .._core import web
from .._core.routes import RequestInfo
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._runtime import AuthonomySync
from ._wsgi import USER_KEY, raw_target

__all__ = [
    "EXTENSION_KEY",
    "client_ip",
    "current_user",
    "path_with_query",
    "request_info",
    "request_user",
    "runtime",
    "to_response",
]

EXTENSION_KEY = "authonomy"
_MISSING = object()
_ANONYMOUS = UnauthenticatedUser()
#: The current request itself, not the proxy: reading ``environ`` through the proxy
#: costs a failed attribute lookup on the proxy first, on every read.
_current_request = cast("LocalProxy[Request]", request)._get_current_object


def runtime() -> AuthonomySync:
    """The current app's runtime; a clear error when the extension is not installed."""
    try:
        kit: AuthonomySync = current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "Authonomy is not set up on this app: call Authonomy(app, config=...) "
            "or authonomy.init_app(app) first"
        ) from None
    return kit


def request_user() -> AuthonomyUser | None:
    """The signed-in user of the current request, or ``None``."""
    user: AuthonomyUser | None = _current_request().environ.get(USER_KEY, _MISSING)
    if user is _MISSING:
        runtime()  # raises when the extension is missing, which is the likely mistake
        return None
    return user


def client_ip() -> str | None:
    """The client's address as the server saw it (policies' ``ip_allowlist``)."""
    address: str | None = _current_request().remote_addr
    return address


def _current_user() -> AuthonomyUser | UnauthenticatedUser:
    user: AuthonomyUser | None = _current_request().environ.get(USER_KEY)
    if user is not None:
        return user
    return request_user() or _ANONYMOUS


def _read(name: str) -> property:
    get = operator.attrgetter(name)
    return property(lambda proxy: get(_current_user()), doc=f"The current user's ``{name}``.")


class _CurrentUser(LocalProxy[AuthonomyUser | UnauthenticatedUser]):
    """The proxy behind ``current_user``.

    A ``LocalProxy`` forwards an attribute only after the lookup on the proxy itself has
    failed, which costs more than reading it; the attributes of a user (those of
    :class:`AuthonomyUser` and :class:`UnauthenticatedUser` alike) are read directly.
    """

    __slots__ = ()

    id = _read("id")
    issuer = _read("issuer")
    email = _read("email")
    name = _read("name")
    customer_id = _read("customer_id")
    groups = _read("groups")
    scopes = _read("scopes")
    mfa = _read("mfa")
    auth_time = _read("auth_time")
    session_id = _read("session_id")
    claims = _read("claims")
    is_authenticated = _read("is_authenticated")
    display_name = _read("display_name")
    identity = _read("identity")


current_user = cast(AuthonomyUser | UnauthenticatedUser, _CurrentUser(_current_user))
"""The current request's :class:`AuthonomyUser`, or an :class:`UnauthenticatedUser`."""


def path_with_query() -> str:
    """The path and query of this request as the browser sent them, to come back to
    after a login."""
    return raw_target(request.environ)


def request_info(*, route: bool = False) -> RequestInfo:
    """What the core needs to know about the current request.

    Query and cookies are parsed only for the kit's own routes (``route=True``); a guard
    needs neither, and parsing them would cost every guarded request.
    """
    info = RequestInfo(
        method=request.method,
        # Werkzeug's headers look names up case-insensitively, as the core expects.
        headers=cast(Mapping[str, str], request.headers),
        target=path_with_query(),
        query={},
        client_ip=request.remote_addr,
        request=request,
        prefix=web.url_prefix(request.root_path),
    )
    if not route:
        return info
    routes = runtime().routes
    # The core's parser, not Werkzeug's: a cookie named twice must count as absent.
    cookies = request.headers.get("Cookie")
    return dataclasses.replace(
        info,
        query=request.args,
        session_cookie=web.cookie_value(cookies, routes.session_cookie),
        login_cookie=web.cookie_value(cookies, routes.login_cookie),
    )


def to_response(reply: web.Reply) -> Response:
    """A framework-free reply as a Flask response."""
    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers:
        response.headers.add(name, value)
    return response
