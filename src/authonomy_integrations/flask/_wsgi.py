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
from .._core.caller import ASK
from .._core.routes import Answer, RequestInfo
from .._core.serving import CallApp, Serving
from .._runtime import AuthonomySync

__all__ = ["USER_KEY", "AuthonomyWSGI", "raw_target"]

#: Where the request's ``AuthonomyUser`` (or ``None``) is kept in the environ.
USER_KEY = "authonomy.user"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AuthonomyWSGI:
    """Authenticates the bearer token or session cookie of each request for ``app``.

    The request runs the core's pipeline (:class:`~.._core.serving.Serving`); the kit's
    routes are the blueprint's views, so here their paths reach the app for nobody.
    """

    def __init__(self, app: WSGIApp, runtime: AuthonomySync) -> None:
        self.app = app
        self.runtime = runtime
        serving = Serving(runtime.routes, runtime.callers, answers_routes=False)
        self._known = serving.known
        self._serve = serving.serve
        self._runner = runtime.runner.with_handlers({CallApp: _call_app})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Put the caller in ``environ`` and run the app, or answer 401 / 503 at once."""
        path = environ.get("PATH_INFO", "")
        authorization = environ.get("HTTP_AUTHORIZATION")
        cookies = environ.get("HTTP_COOKIE")
        known = self._known(path, authorization, cookies)
        if known is not ASK:
            environ[USER_KEY] = known
            return self.app(environ, start_response)
        request = (self.app, environ, start_response)
        outcome = self._runner.run(
            self._serve(request, path, (authorization, cookies), lambda _: _info(environ))
        )
        if isinstance(outcome, Answer):
            return _answer(outcome.reply, start_response)
        result: Iterable[bytes] = outcome.response
        return result


def _call_app(effect: CallApp) -> Iterable[bytes]:
    """Tell the app who is calling and call it (a refreshed session's cookie added on
    the way out)."""
    app, environ, start_response = effect.request
    environ[USER_KEY] = effect.user
    if effect.set_cookie is not None:
        start_response = _with_cookie(start_response, effect.set_cookie)
    result: Iterable[bytes] = app(environ, start_response)
    return result


def _info(environ: dict[str, Any]) -> RequestInfo:
    """The request read for the core; only its refusals need it (the routes are views)."""
    method = environ.get("REQUEST_METHOD", "GET")
    prefix = web.url_prefix(environ.get("SCRIPT_NAME"))
    return RequestInfo(method, _headers(environ), raw_target(environ), {}, None, prefix=prefix)


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
