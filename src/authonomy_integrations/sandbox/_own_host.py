"""The sandbox answers only under its own host names (a defence against DNS rebinding).

A web page a developer visits can point a name it controls at ``127.0.0.1`` and then
drive the sandbox from the browser under that name: read the console's form token,
resend deliveries, call ``/v1`` with the published full-access key. The browser's
same-origin rule does not stop it, since to the browser the page and the sandbox share
that origin; only the ``Host`` header tells. :class:`OwnHostOnly` refuses, before any
route, every request whose ``Host`` is not one of the sandbox's own addresses: its
issuer's host, ``127.0.0.1``, ``localhost`` or ``[::1]``, with its port.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OwnHostOnly", "own_hosts", "own_origins"]

#: Loopback names the sandbox answers to on its port, besides its issuer's host.
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def own_hosts(issuer: str) -> frozenset[str]:
    """The ``Host`` values (lower case) the sandbox at ``issuer`` answers to."""
    parts = urlsplit(issuer)
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    name = (parts.hostname or "").lower()
    names = {f"[{name}]" if ":" in name else name, *_LOOPBACK}
    hosts = {f"{host}:{port}" for host in names}
    if port == default:  # browsers omit a default port
        hosts |= names
    return frozenset(hosts)


def own_origins(issuer: str) -> frozenset[str]:
    """The origins of the sandbox's own pages (``http://127.0.0.1:8400`` ...)."""
    scheme = urlsplit(issuer).scheme or "http"
    return frozenset(f"{scheme}://{host}" for host in own_hosts(issuer))


class OwnHostOnly:
    """Answers ``421 Misdirected Request`` to any HTTP request for another host.

    ``issuer`` is read per request: the sandbox learns its port when it starts.
    """

    def __init__(self, app: ASGIApp, issuer: Callable[[], str]) -> None:
        self.app = app
        self.issuer = issuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._own(scope):
            refusal = PlainTextResponse(
                "This is a local Authonomy sandbox; it answers only at its own address.",
                status_code=421,
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _own(self, scope: Scope) -> bool:
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1:  # none (HTTP/1.0), or several to choose from: not ours
            return False
        host = hosts[0].decode("latin-1").strip().lower()
        return host in own_hosts(self.issuer())
