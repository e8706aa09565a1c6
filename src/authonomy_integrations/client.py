"""``AuthonomyClient`` and ``AsyncAuthonomyClient``: the Authonomy API over httpx.

Both are thin facades over :mod:`authonomy_integrations.core.api`: each method runs one
core flow with :class:`~._drivers.SyncRunner` or :class:`~._drivers.AsyncRunner`, so the
two clients cannot drift apart. Listings are iterated lazily, one page per request::

    with AuthonomyClient(api_key="ak_...", environment="sandbox") as client:
        for customer in client.customers.list(status="active"):
            print(customer["id"])

    async with AsyncAuthonomyClient(api_key="ak_...") as client:
        async for event in client.analytics.events(type="authentication"):
            ...
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from ._drivers import AsyncRunner, SyncRunner
from ._transport import PerLoopTransport
from .config import ENVIRONMENTS, AuthonomyConfig
from .core.api import (
    AnalyticsFlows,
    ApiFlows,
    AuditFlows,
    AuthFlows,
    Authorization,
    Customer,
    CustomerFlows,
    Pages,
    PolicyFlows,
    PolicyRecord,
    PolicyRecordList,
    TokenResponse,
    Webhook,
    WebhookFlows,
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

JSONObject = dict[str, Any]
Moment = str | int | datetime


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


def _iterate(runner: SyncRunner, pages: Pages[Any]) -> Iterator[Any]:
    number: int | None = 1
    while number is not None:
        page = runner.run(pages.page(number))
        yield from page.items
        number = page.next_number


async def _aiterate(runner: AsyncRunner, pages: Pages[Any]) -> AsyncIterator[Any]:
    number: int | None = 1
    while number is not None:
        page = await runner.run(pages.page(number))
        for item in page.items:
            yield item
        number = page.next_number


# --- sync ------------------------------------------------------------------------------


class AuthAPI:
    """``client.auth``: start a login, exchange a code, refresh, log out."""

    def __init__(self, runner: SyncRunner, flows: AuthFlows) -> None:
        self._runner = runner
        self._flows = flows

    def authorize(
        self,
        customer_id: str,
        return_url: str,
        scopes: Sequence[str],
        code_challenge: str,
        nonce: str,
        code_challenge_method: str = "S256",
        login_hint: str | None = None,
        prompt: str | None = None,
        max_age: int | None = None,
        acr_values: str | None = None,
    ) -> Authorization:
        """Start a login; send the browser to the answer's ``authorization_url``."""
        return self._runner.run(
            self._flows.authorize(
                customer_id, return_url, scopes, code_challenge, nonce,
                code_challenge_method, login_hint, prompt, max_age, acr_values,
            )
        )  # fmt: skip

    def token(self, code: str, state: str, code_verifier: str, return_url: str) -> TokenResponse:
        """Exchange an authorization code for tokens (never retried)."""
        return self._runner.run(self._flows.token(code, state, code_verifier, return_url))

    def refresh(self, refresh_token: str) -> TokenResponse:
        """Trade a refresh token for a new token set."""
        return self._runner.run(self._flows.refresh(refresh_token))

    def logout(self, refresh_token: str | None = None, session_id: str | None = None) -> JSONObject:
        """End a session named by exactly one of its refresh token or its id."""
        return self._runner.run(self._flows.logout(refresh_token, session_id))


class CustomersAPI:
    """``client.customers``: tenants, their IdP and their policies."""

    def __init__(self, runner: SyncRunner, flows: CustomerFlows) -> None:
        self._runner = runner
        self._flows = flows

    def list(
        self,
        status: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int = 50,
    ) -> Iterator[Customer]:
        """Every matching customer, fetched page by page as the iteration advances."""
        return _iterate(self._runner, self._flows.list(status, sort, order, limit))

    def get(self, id: str) -> Customer:
        """One customer; :class:`~.errors.InvalidCustomerError` when unknown."""
        return self._runner.run(self._flows.get(id))

    def create(
        self, id: str, name: str, domains: Sequence[str] | None = None, **extra: Any
    ) -> Customer:
        """Create a customer."""
        return self._runner.run(self._flows.create(id, name, domains, **extra))

    def update(self, id: str, **fields: Any) -> Customer:
        """Change some fields of a customer."""
        return self._runner.run(self._flows.update(id, **fields))

    def configure_idp(self, id: str, type: str, **settings: Any) -> Customer:
        """Set the customer's IdP; ``client_secret`` is write-only."""
        return self._runner.run(self._flows.configure_idp(id, type, **settings))

    def policies(self, id: str) -> PolicyRecordList:
        """The policies assigned to a customer."""
        return self._runner.run(self._flows.policies(id))

    def assign_policies(self, id: str, policy_ids: Sequence[str]) -> Any:
        """Assign policies (by ``pol_...`` id) to a customer."""
        return self._runner.run(self._flows.assign_policies(id, policy_ids))


class PoliciesAPI:
    """``client.policies``: access policies."""

    def __init__(self, runner: SyncRunner, flows: PolicyFlows) -> None:
        self._runner = runner
        self._flows = flows

    def list(self, limit: int = 100) -> Iterator[PolicyRecord]:
        """Every policy, fetched page by page."""
        return _iterate(self._runner, self._flows.list(limit))

    def get(self, id: str) -> PolicyRecord:
        """One policy by id."""
        return self._runner.run(self._flows.get(id))

    def create(
        self, name: str, type: str, conditions: Mapping[str, Any], description: str = ""
    ) -> PolicyRecord:
        """Create a policy."""
        return self._runner.run(self._flows.create(name, type, conditions, description))

    def update(self, id: str, **fields: Any) -> PolicyRecord:
        """Change some fields of a policy."""
        return self._runner.run(self._flows.update(id, **fields))

    def assign(self, customer_id: str, policy_ids: Sequence[str]) -> Any:
        """Assign policies to a customer."""
        return self._runner.run(self._flows.assign(customer_id, policy_ids))

    def find_by_name(self, name: str) -> PolicyRecord | None:
        """The policy called ``name``, or ``None``."""
        return self._runner.run(self._flows.find_by_name(name))


class AnalyticsAPI:
    """``client.analytics``: dashboard metrics, events and users."""

    def __init__(self, runner: SyncRunner, flows: AnalyticsFlows) -> None:
        self._runner = runner
        self._flows = flows

    def dashboard(self) -> JSONObject:
        """Dashboard metrics."""
        return self._runner.run(self._flows.dashboard())

    def events(
        self,
        type: str | None = None,
        customer_id: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        limit: int = 100,
    ) -> Iterator[JSONObject]:
        """Matching events, fetched page by page."""
        return _iterate(self._runner, self._flows.events(type, customer_id, since, until, limit))

    def users(self, limit: int = 100) -> Iterator[JSONObject]:
        """Per-user analytics, fetched page by page."""
        return _iterate(self._runner, self._flows.users(limit))


class AuditAPI:
    """``client.audit``: the audit trail."""

    def __init__(self, runner: SyncRunner, flows: AuditFlows) -> None:
        self._runner = runner
        self._flows = flows

    def logs(self, limit: int = 100, **filters: str | int) -> Iterator[JSONObject]:
        """Audit log entries, fetched page by page."""
        return _iterate(self._runner, self._flows.logs(limit, **filters))


class WebhooksAPI:
    """``client.webhooks``: subscriptions to event deliveries."""

    def __init__(self, runner: SyncRunner, flows: WebhookFlows) -> None:
        self._runner = runner
        self._flows = flows

    def create(self, url: str, events: Sequence[str], secret: str) -> Webhook:
        """Subscribe ``url`` to ``events``."""
        return self._runner.run(self._flows.create(url, events, secret))

    def list(self, limit: int = 100) -> Iterator[Webhook]:
        """Every subscription."""
        return _iterate(self._runner, self._flows.list(limit))

    def delete(self, id: str) -> Any:
        """Remove a subscription."""
        return self._runner.run(self._flows.delete(id))


class AuthonomyClient:
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
        runner = SyncRunner(self._http)
        self.auth = AuthAPI(runner, flows.auth)
        self.customers = CustomersAPI(runner, flows.customers)
        self.policies = PoliciesAPI(runner, flows.policies)
        self.analytics = AnalyticsAPI(runner, flows.analytics)
        self.audit = AuditAPI(runner, flows.audit)
        self.webhooks = WebhooksAPI(runner, flows.webhooks)

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


# --- async -----------------------------------------------------------------------------


class AsyncAuthAPI:
    """``client.auth`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: AuthFlows) -> None:
        self._runner = runner
        self._flows = flows

    async def authorize(
        self,
        customer_id: str,
        return_url: str,
        scopes: Sequence[str],
        code_challenge: str,
        nonce: str,
        code_challenge_method: str = "S256",
        login_hint: str | None = None,
        prompt: str | None = None,
        max_age: int | None = None,
        acr_values: str | None = None,
    ) -> Authorization:
        """Start a login; send the browser to the answer's ``authorization_url``."""
        return await self._runner.run(
            self._flows.authorize(
                customer_id, return_url, scopes, code_challenge, nonce,
                code_challenge_method, login_hint, prompt, max_age, acr_values,
            )
        )  # fmt: skip

    async def token(
        self, code: str, state: str, code_verifier: str, return_url: str
    ) -> TokenResponse:
        """Exchange an authorization code for tokens (never retried)."""
        return await self._runner.run(self._flows.token(code, state, code_verifier, return_url))

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Trade a refresh token for a new token set."""
        return await self._runner.run(self._flows.refresh(refresh_token))

    async def logout(
        self, refresh_token: str | None = None, session_id: str | None = None
    ) -> JSONObject:
        """End a session named by exactly one of its refresh token or its id."""
        return await self._runner.run(self._flows.logout(refresh_token, session_id))


class AsyncCustomersAPI:
    """``client.customers`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: CustomerFlows) -> None:
        self._runner = runner
        self._flows = flows

    def list(
        self,
        status: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int = 50,
    ) -> AsyncIterator[Customer]:
        """Every matching customer, fetched page by page (``async for``)."""
        return _aiterate(self._runner, self._flows.list(status, sort, order, limit))

    async def get(self, id: str) -> Customer:
        """One customer; :class:`~.errors.InvalidCustomerError` when unknown."""
        return await self._runner.run(self._flows.get(id))

    async def create(
        self, id: str, name: str, domains: Sequence[str] | None = None, **extra: Any
    ) -> Customer:
        """Create a customer."""
        return await self._runner.run(self._flows.create(id, name, domains, **extra))

    async def update(self, id: str, **fields: Any) -> Customer:
        """Change some fields of a customer."""
        return await self._runner.run(self._flows.update(id, **fields))

    async def configure_idp(self, id: str, type: str, **settings: Any) -> Customer:
        """Set the customer's IdP; ``client_secret`` is write-only."""
        return await self._runner.run(self._flows.configure_idp(id, type, **settings))

    async def policies(self, id: str) -> PolicyRecordList:
        """The policies assigned to a customer."""
        return await self._runner.run(self._flows.policies(id))

    async def assign_policies(self, id: str, policy_ids: Sequence[str]) -> Any:
        """Assign policies (by ``pol_...`` id) to a customer."""
        return await self._runner.run(self._flows.assign_policies(id, policy_ids))


class AsyncPoliciesAPI:
    """``client.policies`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: PolicyFlows) -> None:
        self._runner = runner
        self._flows = flows

    def list(self, limit: int = 100) -> AsyncIterator[PolicyRecord]:
        """Every policy, fetched page by page (``async for``)."""
        return _aiterate(self._runner, self._flows.list(limit))

    async def get(self, id: str) -> PolicyRecord:
        """One policy by id."""
        return await self._runner.run(self._flows.get(id))

    async def create(
        self, name: str, type: str, conditions: Mapping[str, Any], description: str = ""
    ) -> PolicyRecord:
        """Create a policy."""
        return await self._runner.run(self._flows.create(name, type, conditions, description))

    async def update(self, id: str, **fields: Any) -> PolicyRecord:
        """Change some fields of a policy."""
        return await self._runner.run(self._flows.update(id, **fields))

    async def assign(self, customer_id: str, policy_ids: Sequence[str]) -> Any:
        """Assign policies to a customer."""
        return await self._runner.run(self._flows.assign(customer_id, policy_ids))

    async def find_by_name(self, name: str) -> PolicyRecord | None:
        """The policy called ``name``, or ``None``."""
        return await self._runner.run(self._flows.find_by_name(name))


class AsyncAnalyticsAPI:
    """``client.analytics`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: AnalyticsFlows) -> None:
        self._runner = runner
        self._flows = flows

    async def dashboard(self) -> JSONObject:
        """Dashboard metrics."""
        return await self._runner.run(self._flows.dashboard())

    def events(
        self,
        type: str | None = None,
        customer_id: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        limit: int = 100,
    ) -> AsyncIterator[JSONObject]:
        """Matching events, fetched page by page (``async for``)."""
        return _aiterate(self._runner, self._flows.events(type, customer_id, since, until, limit))

    def users(self, limit: int = 100) -> AsyncIterator[JSONObject]:
        """Per-user analytics, fetched page by page (``async for``)."""
        return _aiterate(self._runner, self._flows.users(limit))


class AsyncAuditAPI:
    """``client.audit`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: AuditFlows) -> None:
        self._runner = runner
        self._flows = flows

    def logs(self, limit: int = 100, **filters: str | int) -> AsyncIterator[JSONObject]:
        """Audit log entries, fetched page by page (``async for``)."""
        return _aiterate(self._runner, self._flows.logs(limit, **filters))


class AsyncWebhooksAPI:
    """``client.webhooks`` of :class:`AsyncAuthonomyClient`."""

    def __init__(self, runner: AsyncRunner, flows: WebhookFlows) -> None:
        self._runner = runner
        self._flows = flows

    async def create(self, url: str, events: Sequence[str], secret: str) -> Webhook:
        """Subscribe ``url`` to ``events``."""
        return await self._runner.run(self._flows.create(url, events, secret))

    def list(self, limit: int = 100) -> AsyncIterator[Webhook]:
        """Every subscription (``async for``)."""
        return _aiterate(self._runner, self._flows.list(limit))

    async def delete(self, id: str) -> Any:
        """Remove a subscription."""
        return await self._runner.run(self._flows.delete(id))


class AsyncAuthonomyClient:
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
        runner = AsyncRunner(self._http)
        self.auth = AsyncAuthAPI(runner, flows.auth)
        self.customers = AsyncCustomersAPI(runner, flows.customers)
        self.policies = AsyncPoliciesAPI(runner, flows.policies)
        self.analytics = AsyncAnalyticsAPI(runner, flows.analytics)
        self.audit = AsyncAuditAPI(runner, flows.audit)
        self.webhooks = AsyncWebhooksAPI(runner, flows.webhooks)

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
