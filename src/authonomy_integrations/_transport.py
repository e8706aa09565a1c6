"""An httpx transport with one connection pool per event loop.

Pooled connections belong to the event loop that opened them: a socket opened on one
loop cannot be read on another, and a loop that has closed takes its sockets' callbacks
with it. An app's async HTTP client, though, lives as long as the app, and the app may be
called from many loops: Starlette's ``TestClient`` used without ``with`` runs every
request on a new loop, pytest-asyncio gives each test its own, a server may be restarted
in the same process. :class:`PerLoopTransport` keeps a pool per loop and closes each pool
on its own loop when that loop shuts down, so no socket outlives its loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable
from contextlib import suppress
from dataclasses import dataclass

import httpx

__all__ = ["PerLoopTransport"]


@dataclass(frozen=True)
class _Pool:
    transport: httpx.AsyncBaseTransport
    lifetime: AsyncGenerator[None, None]


class PerLoopTransport(httpx.AsyncBaseTransport):
    """Sends each request over the pool of the event loop it runs on.

    A loop's pool is opened by its first request and closed, on that loop, when the loop
    shuts down its async generators (``asyncio.run``, ``asyncio.Runner``, anyio, uvicorn
    and pytest-asyncio all do, before closing the loop), or by :meth:`reset` /
    :meth:`aclose`. A repeat request costs one dictionary lookup more than a plain
    transport.
    """

    def __init__(
        self, factory: Callable[[], httpx.AsyncBaseTransport] = httpx.AsyncHTTPTransport
    ) -> None:
        self._factory = factory
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}
        self._guard = threading.Lock()  # loops in different threads open pools at once

    @property
    def open_pools(self) -> int:
        """How many loops have a pool right now (for tests and diagnostics)."""
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over the running loop's pool, opening it on first use."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = await self._open(loop)
        return await pool.transport.handle_async_request(request)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Pool:
        transport = self._factory()
        lifetime = self._lifetime(loop, transport)
        # The first step registers the generator with the running loop (asyncio's
        # first-iteration hook); the loop's shutdown then closes it, and the pool, on
        # the loop the pool's sockets belong to.
        await anext(lifetime)
        with self._guard:
            self._forget_closed_loops()
            pool = self._pools.setdefault(loop, _Pool(transport, lifetime))
        if pool.transport is not transport:  # another task of this loop opened one first
            await lifetime.aclose()
        return pool

    async def _lifetime(
        self, loop: asyncio.AbstractEventLoop, transport: httpx.AsyncBaseTransport
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._guard:
                pool = self._pools.get(loop)
                if pool is not None and pool.transport is transport:
                    del self._pools[loop]
            await transport.aclose()

    def _forget_closed_loops(self) -> None:
        # A loop closed without shutting down its async generators (``loop.close()``
        # by hand) cannot run the close any more; only the references can be dropped.
        for loop in [loop for loop in self._pools if loop.is_closed()]:
            del self._pools[loop]

    async def reset(self) -> None:
        """Close the running loop's pool; its next request opens a new one."""
        pool = self._pools.get(asyncio.get_running_loop())
        if pool is not None:
            await pool.lifetime.aclose()

    async def aclose(self) -> None:
        """Close the running loop's pool, and ask other live loops to close theirs."""
        running = asyncio.get_running_loop()
        with self._guard:
            self._forget_closed_loops()
            others = [(loop, pool) for loop, pool in self._pools.items() if loop is not running]
        for loop, pool in others:
            with suppress(RuntimeError):  # the loop closed meanwhile
                asyncio.run_coroutine_threadsafe(pool.lifetime.aclose(), loop)
        await self.reset()
