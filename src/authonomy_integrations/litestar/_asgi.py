"""ASGI plumbing shared by the middleware, the guards and the webhook route.

The request's headers, address and query as the core reads them, what ``request.auth``
holds, and a :class:`~authonomy_integrations._core.web.Reply` as Litestar's low-level
response. Nothing here knows about tokens or sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.response.base import ASGIResponse
from litestar.types import Scope

from .._core import web
from .._core.routes import RequestInfo, Routes
from .._core.web import Reply

__all__ = ["Credentials", "client_ip", "reply_response", "request_info"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """``request.auth`` behind the plugin: the access token's ``scopes`` (none for
    nobody), and the runtime that settled the caller, which the guards use."""

    runtime: Any
    scopes: frozenset[str] = frozenset()


def client_ip(scope: Scope) -> str | None:
    """The client's address as the server saw it (policies' ``ip_allowlist``)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def request_info(scope: Scope, routes: Routes | None, request: Any = None) -> RequestInfo:
    """The request read for the core; with ``routes`` (and the Litestar ``request``), the
    query and the kit's cookies too, which only the kit's own routes read."""
    # A WebSocket handshake has no method.
    method = scope["method"] if scope["type"] == ScopeType.HTTP else "GET"
    headers, target, address = Headers(scope["headers"]), web.asgi_target(scope), client_ip(scope)
    prefix = web.url_prefix(scope.get("root_path"))
    if routes is None:
        return RequestInfo(method, headers, target, {}, address, prefix=prefix)
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    cookies = web.asgi_cookie_header(request, None)
    return RequestInfo(
        method,
        headers,
        target,
        query,
        address,
        session_cookie=web.cookie_value(cookies, routes.session_cookie),
        login_cookie=web.cookie_value(cookies, routes.login_cookie),
        request=request,
        prefix=prefix,
    )


def reply_response(reply: Reply, *set_cookies: str) -> ASGIResponse:
    """``reply`` with extra ``Set-Cookie`` values, as Litestar's ASGI response."""
    headers = [("content-type", reply.content_type), *reply.headers]
    headers.extend(("set-cookie", cookie) for cookie in set_cookies)
    return ASGIResponse(body=reply.body, status_code=reply.status, headers=headers)
