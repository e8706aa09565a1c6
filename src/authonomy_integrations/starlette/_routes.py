"""The routes the middleware serves itself: login, callback and logout.

What they answer is decided in :mod:`authonomy_integrations._core.routes`; here the ASGI
scope becomes a :class:`~authonomy_integrations._core.routes.RequestInfo` and the answer
a Starlette response.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import Receive, Scope

from .._core import web
from .._core.effects import Flow
from .._core.routes import Answer, RequestInfo
from .._runtime import AuthonomyAsync
from ._asgi import PREFIX_KEY, client_ip, request_headers, target

__all__ = ["RouteFlow", "request_info"]

RouteFlow = Callable[[RequestInfo], Flow[Answer]]


def request_info(runtime: AuthonomyAsync, scope: Scope, receive: Receive) -> RequestInfo:
    """What the core needs to know about this request."""
    request = Request(scope, receive)
    cookies = web.asgi_cookie_header(request, None)
    routes = runtime.routes
    return RequestInfo(
        method=scope["method"],
        headers=request_headers(scope),
        target=target(scope),
        query=dict(request.query_params),
        client_ip=client_ip(scope),
        session_cookie=web.cookie_value(cookies, routes.session_cookie),
        login_cookie=web.cookie_value(cookies, routes.login_cookie),
        request=request,
        prefix=scope.get(PREFIX_KEY, ""),
    )
