"""``AuthonomyClient`` and ``AsyncAuthonomyClient``: the Authonomy API over httpx.

Neither restates an endpoint: both bind the declarations of
:mod:`authonomy_integrations._core.api_endpoints`, the sync client running each call's flow
with :class:`~._drivers.SyncRunner`, the async one awaiting it with
:class:`~._drivers.AsyncRunner`, so the two cannot drift apart. Listings are iterated
lazily, one page per request::

    with AuthonomyClient(api_key="ak_...", environment="sandbox") as client:
        for customer in client.customers.list(status="active"):
            print(customer["id"])

    async with AsyncAuthonomyClient(api_key="ak_...") as client:
        async for event in client.analytics.events(type="authentication"):
            ...
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Generic, Self, TypeVar

import httpx

from ._config import ENVIRONMENTS, AuthonomyConfig
from ._core.api import ApiFlows, Awaiting, Blocking
from ._core.api_binding import M
from ._core.api_endpoints import Endpoints
from ._drivers import AsyncRunner, SyncRunner
from ._errors import ConfigurationError
from ._observability import events_for
from ._transport import PerLoopTransport

__all__ = ["AsyncAuthonomyClient", "AuthonomyClient"]

H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def _flows(
    api_key: str | None, environment: str, base_url: str | None, timeout: float, max_retries: int
) -> ApiFlows:
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            "environment", f"unknown environment {environment!r}; use one of {sorted(ENVIRONMENTS)}"
        )
    key = api_key if api_key is not None else os.environ.get("AUTHONOMY_API_KEY", "")
    if not key:
        raise ConfigurationError("api_key", "is required: pass api_key= or set AUTHONOMY_API_KEY")
    url = base_url or ENVIRONMENTS[environment][0]
    return ApiFlows(url, key, timeout=timeout, max_retries=max_retries, events=events_for(None))


class _Client(Endpoints[M], Generic[M, H]):
    """What both clients share: settings, the connection pool, and the bound endpoints."""

    def __init__(
        self,
        api_key: str | None = None,
        environment: str = "production",
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        http_client: H | None = None,
    ) -> None:
        self.flows = _flows(api_key, environment, base_url, timeout, max_retries)
        """The core flows behind this client, for code that drives them itself."""
        self._owns_http = http_client is None
        self._http: H = self._new_pool(timeout) if http_client is None else http_client
        self._bind_endpoints(self.flows, self._mode(self._http))

    def _new_pool(self, timeout: float) -> H:
        raise NotImplementedError

    def _mode(self, http: H) -> M:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: AuthonomyConfig, *, http_client: H | None = None) -> Self:
        """A client using the key, API URL, timeout and retries of ``config``."""
        return cls(
            config.api_key,
            config.environment,
            config.resolved_api_base_url,
            timeout=config.http_timeout,
            max_retries=config.max_retries,
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.flows.base_url!r})"


class AuthonomyClient(_Client[Blocking, httpx.Client]):
    """The Authonomy API for threaded code (Flask, scripts).

    ``api_key`` defaults to ``AUTHONOMY_API_KEY``; ``base_url`` overrides the
    ``environment``'s API URL. Idempotent calls are retried up to ``max_retries`` times.
    Pass ``http_client`` to share a connection pool; the client then leaves it open.
    """

    def _new_pool(self, timeout: float) -> httpx.Client:
        return httpx.Client(timeout=timeout)

    def _mode(self, http: httpx.Client) -> Blocking:
        return Blocking(SyncRunner(http))

    def close(self) -> None:
        """Close the connection pool, unless it was passed in."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAuthonomyClient(_Client[Awaiting, httpx.AsyncClient]):
    """The Authonomy API for asyncio code (Starlette, FastAPI); same surface, awaited.

    Takes the same arguments as :class:`AuthonomyClient`, with an ``httpx.AsyncClient``.
    Use ``async with`` or ``await client.aclose()``; listings are async iterators.
    """

    def _new_pool(self, timeout: float) -> httpx.AsyncClient:
        # Usable from whichever event loop awaits it: connections are pooled per loop.
        return httpx.AsyncClient(timeout=timeout, transport=PerLoopTransport())

    def _mode(self, http: httpx.AsyncClient) -> Awaiting:
        return Awaiting(AsyncRunner(http))

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
