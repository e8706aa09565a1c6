"""Both client facades over httpx, against an in-process fake of the Authonomy API."""

from __future__ import annotations

import inspect
import json
import pydoc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from authonomy_integrations._client import AsyncAuthonomyClient, AuthonomyClient
from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._core.api import AuthorizeResponse, Customer
from authonomy_integrations._core.api_endpoints import CustomerEndpoints
from authonomy_integrations._errors import (
    AuthonomyUnavailableError,
    ConfigurationError,
    InternalServerError,
    InvalidCustomerError,
    InvalidGrantError,
)

BASE = "https://api.example.test/v1"
CUSTOMERS = [{"id": f"cust-{n}", "name": f"Customer {n}", "status": "active"} for n in range(5)]


def envelope(data: Any, status: int = 200, **extra: Any) -> httpx.Response:
    body = {"success": True, "data": data, "meta": {"request_id": "req_1"}, **extra}
    return httpx.Response(status, json=body)


def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": code, "message": message, "details": {}}}
    return httpx.Response(status, json=body, headers=headers)


class FakeAuthonomy:
    """Answers a few endpoints like Authonomy and records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.failures: list[httpx.Response] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            return self.failures.pop(0)
        path = request.url.path.removeprefix("/v1")
        if path == "/customers":
            return self._customers(request)
        if path == "/customers/nobody":
            return error(404, "INVALID_CUSTOMER", "Customer 'nobody' not found")
        if path == "/auth/token":
            return error(400, "INVALID_GRANT", "code already used")
        if path == "/auth/logout":
            return envelope({"logged_out": True, "sent": json.loads(request.content)})
        return envelope({"path": path})

    def _customers(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        size = int(request.url.params["limit"])
        total_pages = -(-len(CUSTOMERS) // size)
        items = CUSTOMERS[(page - 1) * size : page * size]
        pagination = {"current_page": page, "total_pages": total_pages, "page_size": size}
        return envelope(items, pagination=pagination)


@pytest.fixture
def fake() -> FakeAuthonomy:
    return FakeAuthonomy()


@pytest.fixture
def client(fake: FakeAuthonomy) -> AuthonomyClient:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return AuthonomyClient("ak_test", base_url=BASE, http_client=http)


@pytest.fixture
def async_client(fake: FakeAuthonomy) -> AsyncAuthonomyClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return AsyncAuthonomyClient("ak_test", base_url=BASE, http_client=http)


# --- sync ----------------------------------------------------------------------------------


def test_list_yields_customers_across_every_page(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    ids = [customer["id"] for customer in client.customers.list(status="active", limit=2)]
    assert ids == [c["id"] for c in CUSTOMERS]
    assert len(fake.requests) == 3
    assert fake.requests[0].url.params["status"] == "active"


def test_list_fetches_later_pages_only_when_iterated(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    customers = client.customers.list(limit=2)
    assert fake.requests == []
    assert next(customers)["id"] == "cust-0"
    assert len(fake.requests) == 1


def test_requests_carry_the_api_key_and_json_headers(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    client.analytics.dashboard()
    (request,) = fake.requests
    assert request.headers["authorization"] == "Bearer ak_test"
    assert request.headers["accept"] == "application/json"
    assert str(request.url) == f"{BASE}/analytics/dashboard"


def test_error_envelope_raises_its_subclass(client: AuthonomyClient) -> None:
    with pytest.raises(InvalidCustomerError) as caught:
        client.customers.get("nobody")
    assert caught.value.status == 404
    assert "nobody" in caught.value.message


def test_used_code_raises_invalid_grant_after_one_request(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    with pytest.raises(InvalidGrantError):
        client.auth.token("code", "state", "verifier", "https://app.test/cb")
    assert len(fake.requests) == 1


def test_logout_sends_a_json_body_with_delete(client: AuthonomyClient) -> None:
    answer = client.auth.logout(session_id="sess_1")
    assert answer["sent"] == {"session_id": "sess_1"}


def test_rate_limited_get_is_retried_after_the_servers_wait(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    fake.failures.append(error(429, "RATE_LIMITED", "slow down", **{"Retry-After": "0"}))
    assert client.analytics.dashboard() == {"path": "/analytics/dashboard"}
    assert len(fake.requests) == 2


def test_unreachable_server_raises_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    client = AuthonomyClient("ak_test", base_url=BASE, max_retries=0, http_client=http)
    with pytest.raises(AuthonomyUnavailableError):
        client.customers.get("acme-corp")


def test_missing_api_key_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTHONOMY_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        AuthonomyClient(base_url=BASE)
    assert caught.value.field == "api_key"


def test_api_key_defaults_to_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHONOMY_API_KEY", "ak_from_env")
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return envelope({})

    http = httpx.Client(transport=httpx.MockTransport(record))
    AuthonomyClient(base_url=BASE, http_client=http).analytics.dashboard()
    assert seen == ["Bearer ak_from_env"]


def test_environment_picks_its_api_url() -> None:
    urls: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return envelope({})

    http = httpx.Client(transport=httpx.MockTransport(record))
    AuthonomyClient("ak_x", environment="sandbox", http_client=http).analytics.dashboard()
    assert urls == ["https://api-sandbox.authonomy.io/v1/analytics/dashboard"]


def test_unknown_environment_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AuthonomyClient("ak_x", environment="staging")
    assert caught.value.field == "environment"


def test_from_config_uses_key_url_timeout_and_retries() -> None:
    config = AuthonomyConfig(
        api_key="ak_cfg",
        audience="app_1",
        api_base_url="http://127.0.0.1:9/v1",
        http_timeout=3.0,
        max_retries=4,
    )
    with AuthonomyClient.from_config(config) as client:
        assert client.flows.base_url == "http://127.0.0.1:9/v1"
        assert client.flows.timeout == 3.0
        assert client.flows.retry.max_retries == 4


def test_closing_leaves_a_passed_in_http_client_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(FakeAuthonomy()))
    with AuthonomyClient("ak_x", base_url=BASE, http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_closing_closes_the_clients_own_pool() -> None:
    with AuthonomyClient("ak_x", base_url=BASE) as client:
        pass
    assert client._http.is_closed


# --- async ---------------------------------------------------------------------------------


async def test_async_list_yields_customers_across_every_page(
    async_client: AsyncAuthonomyClient, fake: FakeAuthonomy
) -> None:
    async with async_client:
        ids = [c["id"] async for c in async_client.customers.list(limit=2)]
    assert ids == [c["id"] for c in CUSTOMERS]
    assert len(fake.requests) == 3


async def test_async_error_envelope_raises_its_subclass(
    async_client: AsyncAuthonomyClient,
) -> None:
    with pytest.raises(InvalidCustomerError):
        await async_client.customers.get("nobody")
    await async_client.aclose()


async def test_async_post_is_not_retried(
    async_client: AsyncAuthonomyClient, fake: FakeAuthonomy
) -> None:
    fake.failures.append(error(503, "INTERNAL_ERROR", "down", **{"Retry-After": "0"}))
    with pytest.raises(InternalServerError):
        await async_client.customers.create("new", "New")
    assert len(fake.requests) == 1


async def test_async_get_is_retried_after_the_servers_wait(
    async_client: AsyncAuthonomyClient, fake: FakeAuthonomy
) -> None:
    fake.failures.append(httpx.Response(503, text="busy", headers={"Retry-After": "0"}))
    assert await async_client.policies.get("pol_1") == {"path": "/policies/pol_1"}
    assert len(fake.requests) == 2


async def test_async_logout_sends_a_json_body(async_client: AsyncAuthonomyClient) -> None:
    answer = await async_client.auth.logout(refresh_token="rt_1")
    assert answer["sent"] == {"refresh_token": "rt_1"}


async def test_async_missing_api_key_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTHONOMY_API_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        AsyncAuthonomyClient(base_url=BASE)


async def test_async_closing_closes_the_clients_own_pool() -> None:
    async with AsyncAuthonomyClient("ak_x", base_url=BASE) as client:
        pass
    assert client._http.is_closed


# --- endpoints declared once, bound to both clients ------------------------------------------

GROUPS = ("auth", "customers", "policies", "analytics", "audit", "webhooks")


def endpoint_names(group: object) -> set[str]:
    return {name for name in dir(group) if not name.startswith("_")}


def test_sync_and_async_clients_have_the_same_endpoints_and_parameters(
    client: AuthonomyClient, async_client: AsyncAuthonomyClient
) -> None:
    for group in GROUPS:
        sync_group, async_group = getattr(client, group), getattr(async_client, group)
        flow_group = getattr(client.flows, group)
        names = endpoint_names(sync_group)
        assert names, group
        assert names == endpoint_names(async_group) == endpoint_names(flow_group)
        for name in names:
            declared = inspect.signature(getattr(flow_group, name)).parameters
            assert inspect.signature(getattr(sync_group, name)).parameters == declared
            assert inspect.signature(getattr(async_group, name)).parameters == declared


def test_bound_endpoints_show_the_declaration_without_self(
    client: AuthonomyClient, async_client: AsyncAuthonomyClient
) -> None:
    signature = inspect.signature(client.auth.authorize)
    assert list(signature.parameters)[:3] == ["customer_id", "return_url", "scopes"]
    assert "self" not in signature.parameters
    assert signature.parameters["code_challenge_method"].default == "S256"
    assert signature.return_annotation is AuthorizeResponse
    assert inspect.signature(async_client.auth.authorize).return_annotation is AuthorizeResponse
    assert inspect.signature(client.customers.list).return_annotation == Iterator[Customer]
    assert (
        inspect.signature(async_client.customers.list).return_annotation
        == (AsyncIterator[Customer])
    )
    assert client.customers.get.__doc__ == async_client.customers.get.__doc__
    assert "unknown" in (client.customers.get.__doc__ or "")
    assert client.customers.get.__name__ == "get"
    assert client.customers.get.__wrapped__ is CustomerEndpoints.get.__wrapped__
    assert "id: str" in pydoc.render_doc(async_client.customers.get)


def test_async_calls_are_coroutine_functions_and_listings_async_iterators(
    async_client: AsyncAuthonomyClient,
) -> None:
    assert inspect.iscoroutinefunction(async_client.customers.get)
    assert not inspect.iscoroutinefunction(async_client.customers.list)
    assert inspect.isasyncgen(async_client.customers.list())


def test_bad_argument_raises_before_any_request(
    client: AuthonomyClient, fake: FakeAuthonomy
) -> None:
    with pytest.raises(ValueError, match="limit"):
        client.customers.list(limit=500)
    with pytest.raises(ValueError, match="identifier"):
        client.customers.get("..")
    with pytest.raises(TypeError, match="scopes"):
        client.auth.authorize("acme", "https://app.test/cb", "openid", "c", "n")
    assert fake.requests == []


async def test_async_bad_argument_raises_when_awaited_without_a_request(
    async_client: AsyncAuthonomyClient, fake: FakeAuthonomy
) -> None:
    pending = async_client.webhooks.create("ftp://hooks.test", ["user.created"], "whsec_x")
    with pytest.raises(ValueError, match="http"):
        await pending
    assert fake.requests == []


def test_two_clients_side_by_side_each_use_their_own_key_and_url() -> None:
    seen: list[tuple[str, str]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["authorization"], request.url.host))
        return envelope({})

    def make(key: str, host: str) -> AuthonomyClient:
        http = httpx.Client(transport=httpx.MockTransport(record))
        return AuthonomyClient(key, base_url=f"https://{host}/v1", http_client=http)

    first, second = make("ak_one", "one.test"), make("ak_two", "two.test")
    first.analytics.dashboard()
    second.analytics.dashboard()
    first.analytics.dashboard()
    assert seen == [
        ("Bearer ak_one", "one.test"),
        ("Bearer ak_two", "two.test"),
        ("Bearer ak_one", "one.test"),
    ]


def test_repeat_access_returns_the_bound_endpoint_kept_on_the_group(
    client: AuthonomyClient,
) -> None:
    bound = client.customers.get
    assert client.customers.get is bound
    assert vars(client.customers)["get"] is bound


def test_repr_names_the_client_and_its_url_never_the_key(
    client: AuthonomyClient, async_client: AsyncAuthonomyClient
) -> None:
    assert repr(client) == f"AuthonomyClient(base_url={BASE!r})"
    assert repr(async_client) == f"AsyncAuthonomyClient(base_url={BASE!r})"
    assert "ak_test" not in repr(client.customers) + repr(async_client.customers)


async def test_async_from_config_uses_key_url_timeout_and_retries() -> None:
    config = AuthonomyConfig(
        api_key="ak_cfg",
        audience="app_1",
        api_base_url="http://127.0.0.1:9/v1",
        http_timeout=3.0,
        max_retries=4,
    )
    async with AsyncAuthonomyClient.from_config(config) as client:
        assert client.flows.base_url == "http://127.0.0.1:9/v1"
        assert client.flows.timeout == 3.0
        assert client.flows.retry.max_retries == 4
    assert client._http.is_closed
