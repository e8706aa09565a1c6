"""``AuthonomyClient`` and ``AsyncAuthonomyClient``: the Authonomy API over httpx.

Neither restates an endpoint: both bind the declarations of
:mod:`authonomy_integrations.core.api_endpoints`, the sync client running each call's flow
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
from typing import Self

import httpx

from ._drivers import AsyncRunner, SyncRunner
from ._transport import PerLoopTransport
from .config import ENVIRONMENTS, AuthonomyConfig
from .core.api import ApiFlows, Awaiting, Blocking
from .core.api_endpoints import (
    AnalyticsEndpoints,
    AuditEndpoints,
    AuthEndpoints,
    CustomerEndpoints,
    Endpoints,
    PolicyEndpoints,
    WebhookEndpoints,
)
from .errors import ConfigurationError
from .observability import events_for

__all__ = [
    "AnalyticsAPI",
    "AsyncAnalyticsAPI",
    "AsyncAuditAPI",
    "AsyncAuthAPI",
    "AsyncAuthonomyClient",
    "AsyncCustomersAPI",
    "AsyncPoliciesAPI",
    "AsyncWebhooksAPI",
    "AuditAPI",
    "AuthAPI",
    "AuthonomyClient",
    "CustomersAPI",
    "PoliciesAPI",
    "WebhooksAPI",
]

# The groups of each client, under their earlier names (for annotations).
AuthAPI = AuthEndpoints[Blocking]
CustomersAPI = CustomerEndpoints[Blocking]
PoliciesAPI = PolicyEndpoints[Blocking]
AnalyticsAPI = AnalyticsEndpoints[Blocking]
AuditAPI = AuditEndpoints[Blocking]
WebhooksAPI = WebhookEndpoints[Blocking]
AsyncAuthAPI = AuthEndpoints[Awaiting]
AsyncCustomersAPI = CustomerEndpoints[Awaiting]
AsyncPoliciesAPI = PolicyEndpoints[Awaiting]
AsyncAnalyticsAPI = AnalyticsEndpoints[Awaiting]
AsyncAuditAPI = AuditEndpoints[Awaiting]
AsyncWebhooksAPI = WebhookEndpoints[Awaiting]


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


class AuthonomyClient(Endpoints[Blocking]):
    """The Authonomy API for threaded code (Flask, scripts).

    ``api_key`` defaults to ``AUTHONOMY_API_KEY``; ``base_url`` overrides the
    ``environment``'s API URL. Idempotent calls are retried up to ``max_retries`` times.
    Pass ``http_client`` to share a connection pool; the client then leaves it open.
    """

    def __init__(
        self,
        api_key: str | None = None,
        environment: str = "production",
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
    ) -> None:
        flows = _flows(api_key, environment, base_url, timeout, max_retries)
        self.flows = flows
        """The core flows behind this client, for code that drives them itself."""
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._bind_endpoints(flows, Blocking(SyncRunner(self._http)))

    @classmethod
    def from_config(
        cls, config: AuthonomyConfig, *, http_client: httpx.Client | None = None
    ) -> Self:
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
        return f"AuthonomyClient(base_url={self.flows.base_url!r})"

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


class AsyncAuthonomyClient(Endpoints[Awaiting]):
    """The Authonomy API for asyncio code (Starlette, FastAPI); same surface, awaited.

    Use ``async with`` or ``await client.aclose()``; listings are async iterators.
    """

    def __init__(
        self,
        api_key: str | None = None,
        environment: str = "production",
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        flows = _flows(api_key, environment, base_url, timeout, max_retries)
        self.flows = flows
        """The core flows behind this client, for code that drives them itself."""
        self._owns_http = http_client is None
        if http_client is None:
            # Usable from whichever event loop awaits it: connections are pooled per loop.
            http_client = httpx.AsyncClient(timeout=timeout, transport=PerLoopTransport())
        self._http = http_client
        self._bind_endpoints(flows, Awaiting(AsyncRunner(self._http)))

    @classmethod
    def from_config(
        cls, config: AuthonomyConfig, *, http_client: httpx.AsyncClient | None = None
    ) -> Self:
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
        return f"AsyncAuthonomyClient(base_url={self.flows.base_url!r})"

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
