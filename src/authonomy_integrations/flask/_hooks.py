"""The request hooks: who is calling (before the view) and the session cookie (after)."""

from __future__ import annotations

from flask import Response, current_app, g, request

from ..core import web
from ..core.engine import SessionState
from ..core.routes import TEMPORARY_ERRORS
from ..errors import TokenError
from ..runtime import AuthonomySync
from ._context import ANONYMOUS, EXTENSION_KEY, unauthenticated, unavailable

__all__ = ["OWN_ENDPOINTS", "authenticate", "write_session_cookie"]

#: The extension's own routes read the cookies they need themselves.
OWN_ENDPOINTS = frozenset(
    {"authonomy.login", "authonomy.callback", "authonomy.logout", "authonomy.webhook"}
)


def authenticate() -> Response | None:
    """``before_request``: set ``g._authonomy``; answer at once for a bad bearer token.

    A session due for refresh is refreshed here, before the view runs; the runtime's
    session lock makes concurrent requests of one session share a single refresh.
    """
    if request.endpoint in OWN_ENDPOINTS:
        g._authonomy = ANONYMOUS
        return None
    kit: AuthonomySync = current_app.extensions[EXTENSION_KEY]
    try:
        g._authonomy = _identify(kit)
    except TokenError as exc:
        g._authonomy = ANONYMOUS
        return unauthenticated(exc)
    except TEMPORARY_ERRORS as exc:
        # The cookie is left alone: the session is still good once Authonomy is back.
        g._authonomy = ANONYMOUS
        return unavailable(exc)
    return None


def _identify(kit: AuthonomySync) -> SessionState:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        token = web.bearer_token(authorization)
        if token is not None:
            return SessionState(kit.authenticate_bearer(token))
    cookie = request.cookies.get(web.session_cookie_name(kit.config))
    return kit.authenticate_session(cookie) if cookie else ANONYMOUS


def write_session_cookie(response: Response) -> Response:
    """``after_request``: send the refreshed session cookie, or delete an ended one."""
    state: SessionState | None = g.get("_authonomy")
    if state is None or (state.set_cookie is None and not state.clear_cookie):
        return response
    config = current_app.extensions[EXTENSION_KEY].config
    name = web.session_cookie_name(config)
    if state.set_cookie is not None:
        value = web.set_cookie(config, name, state.set_cookie, config.session_max_age)
    else:
        value = web.clear_cookie(config, name)
    response.headers.add("Set-Cookie", value)
    return response
