"""The WSGI layer the extension puts around ``app.wsgi_app``: who is calling.

It runs before Flask builds its request context, so a repeat bearer token costs an
environ lookup and a cache hit instead of Flask's hook dispatch and context-local
lookups. The user rides in the WSGI environ (``environ["authonomy.user"]``), where
``current_user`` and the guards read it; a refreshed or ended session's cookie is added
to the response's headers on the way out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._core import web
from .._core.caller import ASK, Caller, refusal
from .._runtime import AuthonomySync

__all__ = ["USER_KEY", "AuthonomyWSGI", "raw_target"]

#: Where the request's ``AuthonomyUser`` (or ``None``) is kept in the environ.
USER_KEY = "authonomy.user"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AuthonomyWSGI:
    """Authenticates the bearer token or session cookie of each request for ``app``."""

    def __init__(self, app: WSGIApp, runtime: AuthonomySync) -> None:
        self.app = app
        self.runtime = runtime
        self.own_paths = runtime.routes.unauthenticated
        self._known = runtime.callers.known
        self._flow = runtime.callers.flow

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Put the caller in ``environ`` and run the app, or answer 401 / 503 at once."""
        if environ.get("PATH_INFO") in self.own_paths:
            environ[USER_KEY] = None
            return self.app(environ, start_response)
        authorization = environ.get("HTTP_AUTHORIZATION")
        cookies = environ.get("HTTP_COOKIE")
        user = self._known(authorization, cookies)
        if user is not ASK:
            environ[USER_KEY] = user
            return self.app(environ, start_response)
        host = environ.get("HTTP_HOST")  # a tenant app refuses callers of other customers
        caller: Caller = self.runtime.run(self._flow(authorization, cookies, host))
        if caller.refused is not None:
            method = environ.get("REQUEST_METHOD", "GET")
            reply = refusal(
                self.runtime.config, caller.refused, method, _headers(environ), raw_target(environ)
            )
            return _answer(reply, start_response)
        environ[USER_KEY] = caller.user
        if caller.set_cookie is not None:
            start_response = _with_cookie(start_response, caller.set_cookie)
        return self.app(environ, start_response)


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
    see :func:`~authonomy_integrations._core.web.wsgi_target`."""
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
