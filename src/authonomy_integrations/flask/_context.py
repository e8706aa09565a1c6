"""The extension's per-app and per-request state, and core replies as Flask responses.

The app's :class:`~authonomy_integrations.runtime.AuthonomySync` lives in
``app.extensions["authonomy"]``; what the extension learned about the caller of the
current request lives on ``g._authonomy`` as a
:class:`~authonomy_integrations.core.engine.SessionState`.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from flask import Response, current_app, g, request
from werkzeug.local import LocalProxy

from ..core import web
from ..core.engine import SessionState
from ..core.routes import RequestInfo
from ..core.user import AuthonomyUser, UnauthenticatedUser
from ..errors import AuthonomyError, TokenError
from ..runtime import AuthonomySync

__all__ = [
    "ANONYMOUS",
    "EXTENSION_KEY",
    "current_user",
    "header_map",
    "path_with_query",
    "request_info",
    "request_user",
    "runtime",
    "to_response",
    "unauthenticated",
    "unavailable",
]

EXTENSION_KEY = "authonomy"

#: The state of a request that carries no credentials, or that the extension skips.
ANONYMOUS = SessionState(None)

_PATH_SAFE = "/:@!$&'()*+,;=-._~"


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
    state: SessionState | None = g.get("_authonomy")
    if state is None:
        runtime()  # raises when the extension is missing, which is the likely mistake
        return None
    return state.user


def _current_user() -> AuthonomyUser | UnauthenticatedUser:
    user = request_user()
    return user if user is not None else UnauthenticatedUser()


current_user = cast(AuthonomyUser | UnauthenticatedUser, LocalProxy(_current_user))
"""The current request's :class:`AuthonomyUser`, or an :class:`UnauthenticatedUser`."""


def header_map() -> dict[str, str]:
    """The request's headers with lower-case names, as ``core.web`` reads them."""
    return {name.lower(): value for name, value in request.headers.items()}


def path_with_query() -> str:
    """The path and query of this request, to come back to after a login."""
    path = quote(request.path, safe=_PATH_SAFE)
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


def request_info() -> RequestInfo:
    """What the core needs to know about the current request."""
    routes = runtime().routes
    cookies = request.cookies
    return RequestInfo(
        method=request.method,
        headers=header_map(),
        target=path_with_query(),
        query=request.args.to_dict(),
        client_ip=request.remote_addr,
        session_cookie=cookies.get(routes.session_cookie),
        login_cookie=cookies.get(routes.login_cookie),
        request=request,
    )


def to_response(reply: web.Reply) -> Response:
    """A framework-free reply as a Flask response."""
    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers:
        response.headers.add(name, value)
    return response


def unauthenticated(error: TokenError | None = None) -> Response:
    """No (valid) credentials: login redirect for a browser, 401 for an API call."""
    config = runtime().config
    reply = web.unauthenticated(config, request.method, header_map(), path_with_query(), error)
    return to_response(reply)


def unavailable(exc: AuthonomyError) -> Response:
    """Authonomy cannot be reached: 503 with ``Retry-After``."""
    return to_response(web.unavailable(exc, request.method, header_map()))
