"""The WSGI layer the extension puts around ``app.wsgi_app``: who is calling.

It runs before Flask builds its request context, so a repeat bearer token costs an
environ lookup and a cache hit instead of Flask's hook dispatch and context-local
lookups. The user rides in the WSGI environ (``environ["authonomy.user"]``), where
``current_user`` and the guards read it; a refreshed or ended session's cookie is added
to the response's headers on the way out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..core import web
from ..core.engine import SessionState
from ..core.routes import TEMPORARY_ERRORS
from ..core.user import AuthonomyUser
from ..errors import TokenError
from ..runtime import AuthonomySync

__all__ = ["USER_KEY", "AuthonomyWSGI", "raw_target"]

logger = logging.getLogger("authonomy_integrations")

#: Where the request's ``AuthonomyUser`` (or ``None``) is kept in the environ.
USER_KEY = "authonomy.user"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_NO_SESSION = SessionState(None)


class AuthonomyWSGI:
    """Authenticates the bearer token or session cookie of each request for ``app``."""

    def __init__(self, app: WSGIApp, runtime: AuthonomySync) -> None:
        self.app = app
        self.runtime = runtime
        config = runtime.config
        # The kit's own routes read their cookies themselves.
        self.own_paths = frozenset({*runtime.routes.by_path, config.webhook_path})
        self.session_cookie = runtime.routes.session_cookie
        self._cached_bearer = runtime.engine.fast_bearer()
        self._clock = runtime.engine.clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Put the caller in ``environ`` and run the app, or answer 401 / 503 at once."""
        if environ.get("PATH_INFO") in self.own_paths:
            environ[USER_KEY] = None
            return self.app(environ, start_response)
        authorization = environ.get("HTTP_AUTHORIZATION")
        try:
            if authorization:
                environ[USER_KEY] = self._bearer(authorization)
                return self.app(environ, start_response)
            state = self._session(environ.get("HTTP_COOKIE"))
        except TokenError as exc:
            return _answer(self._unauthenticated(environ, exc), start_response)
        except TEMPORARY_ERRORS as exc:
            # The cookie is left alone: the session is still good once Authonomy is back.
            logger.warning("request answered 503: %s", exc)
            reply = web.unavailable(exc, environ.get("REQUEST_METHOD", "GET"), _headers(environ))
            return _answer(reply, start_response)
        environ[USER_KEY] = state.user
        cookie = self._set_cookie(state)
        if cookie is not None:
            start_response = _with_cookie(start_response, cookie)
        return self.app(environ, start_response)

    def _bearer(self, authorization: str) -> AuthonomyUser | None:
        token = web.bearer_token(authorization)
        if token is None:
            return None
        user: AuthonomyUser | None = self._cached_bearer(token, self._clock())
        return user if user is not None else self.runtime.authenticate_bearer(token)

    def _session(self, cookies: str | None) -> SessionState:
        cookie = web.cookie_value(cookies, self.session_cookie)
        return self.runtime.authenticate_session(cookie) if cookie else _NO_SESSION

    def _set_cookie(self, state: SessionState) -> str | None:
        config = self.runtime.config
        if state.set_cookie is not None:
            return web.set_cookie(
                config, self.session_cookie, state.set_cookie, config.session_max_age
            )
        if state.clear_cookie:
            return web.clear_cookie(config, self.session_cookie)
        return None

    def _unauthenticated(self, environ: dict[str, Any], exc: TokenError) -> web.Reply:
        method = environ.get("REQUEST_METHOD", "GET")
        return web.unauthenticated(
            self.runtime.config, method, _headers(environ), raw_target(environ), exc
        )


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers with lower-case names (only on the rare refusal paths)."""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def raw_target(environ: dict[str, Any]) -> str:
    """The path and query of the request as the client sent them (percent-encoded, ASCII);
    see :func:`~authonomy_integrations.core.web.wsgi_target`."""
    return web.wsgi_target(environ)


def _answer(reply: web.Reply, start_response: StartResponse) -> Iterable[bytes]:
    headers = [("Content-Type", reply.content_type), *reply.headers]
    headers.append(("Content-Length", str(len(reply.body))))
    start_response(f"{reply.status} {_REASONS.get(reply.status, '')}".rstrip(), headers)
    return [reply.body]


def _with_cookie(start_response: StartResponse, cookie: str) -> StartResponse:
    def start_with_cookie(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        return start_response(status, [*headers, ("Set-Cookie", cookie)], *exc_info)

    return start_with_cookie


_REASONS = {401: "Unauthorized", 503: "Service Unavailable"}
