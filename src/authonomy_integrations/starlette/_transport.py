"""An httpx transport whose connections can be dropped while the client stays usable."""

from __future__ import annotations

import httpx

__all__ = ["ReopeningTransport"]


class ReopeningTransport(httpx.AsyncBaseTransport):
    """Delegates to an :class:`httpx.AsyncHTTPTransport` that :meth:`reset` replaces.

    Pooled connections belong to the event loop that opened them. The middleware resets
    the pool when the app shuts down, so the same app served again (a second test
    client, a restarted server thread) opens fresh connections instead of reusing dead
    ones, and no socket is left for the garbage collector to close.
    """

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over the current pool."""
        return await self._inner.handle_async_request(request)

    async def reset(self) -> None:
        """Close every pooled connection; later requests open new ones."""
        old, self._inner = self._inner, httpx.AsyncHTTPTransport()
        await old.aclose()

    async def aclose(self) -> None:
        """Close the pool for good (the client is being closed)."""
        await self._inner.aclose()
