"""ASGI plumbing shared by the middleware, its routes and the guards.

The request's headers, target and address as the core reads them, the credentials
``request.auth`` carries, and a :class:`~authonomy_integrations._core.web.Reply` turned into
a Starlette response. Nothing here knows about tokens or sessions.
"""

from __future__ import annotations

from typing import Any

from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Scope, Send

from .._core import web
from .._core.web import Reply

__all__ = [
    "PREFIX_KEY",
    "KitCredentials",
    "client_ip",
    "closing",
    "request_headers",
    "response",
    "target",
    "with_cookies",
]


class KitCredentials(AuthCredentials):
    """``request.auth`` behind the middleware: the granted scopes (``"authenticated"``
    and the token's, for Starlette's ``@requires``), and the runtime that settled them,
    which the guards and the webhook route use.

    The runtime rides here rather than under a scope key of its own: every key added
    to the scope can make the server's dict grow on the request path.
    """

    def __init__(self, runtime: Any, scopes: list[str] | None = None) -> None:
        super().__init__(scopes)
        self.runtime = runtime


def request_headers(scope: Scope) -> Headers:
    """The request headers as a mapping with lower-case names (what ``_core.web`` reads)."""
    return Headers(scope=scope)


def target(scope: Scope) -> str:
    """The requested path with its query string, as the client sent them (percent-encoded,
    ASCII); see :func:`~authonomy_integrations._core.web.asgi_target`."""
    return web.asgi_target(scope)


#: Where the middleware leaves the URL prefix it is served under (its ``root_path``: a
#: ``Mount``, uvicorn's ``--root-path``), for the kit's routes and the guards: a guard in
#: a mounted sub-application has a ``root_path`` of its own, naming the mount, not where
#: the kit's routes are. Absent: the site's root.
PREFIX_KEY = "authonomy.prefix"


def client_ip(scope: Scope) -> str | None:
    """The client's address as the server saw it (policies' ``ip_allowlist``)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def response(reply: Reply, *set_cookies: str) -> Response:
    """A Starlette response for ``reply``, with extra ``Set-Cookie`` values."""
    result = Response(reply.body, reply.status, media_type=reply.content_type)
    for name, value in reply.headers:
        result.headers.append(name, value)
    for cookie in set_cookies:
        result.headers.append("set-cookie", cookie)
    return result


def closing(code: int) -> Message:
    """The message that closes a WebSocket (or refuses its handshake) with ``code``."""
    return {"type": "websocket.close", "code": code, "reason": ""}


def with_cookies(send: Send, set_cookies: tuple[str, ...]) -> Send:
    """``send`` that appends ``Set-Cookie`` headers to the response start message."""
    extra = [(b"set-cookie", cookie.encode("latin-1")) for cookie in set_cookies]

    async def send_with_cookies(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = [*message.get("headers", ()), *extra]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_cookies
