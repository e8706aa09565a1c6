"""Both clients against the embedded sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from authonomy_integrations._client import AsyncAuthonomyClient, AuthonomyClient
from authonomy_integrations._errors import (
    APIValidationError,
    AuthonomyAPIError,
    InsufficientPermissionsError,
    InvalidAPIKeyError,
    InvalidCustomerError,
    InvalidGrantError,
    NotFoundError,
)
from authonomy_integrations.sandbox import Sandbox
from tests.conftest import free_port

SCOPES = ["openid", "profile", "email", "groups"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[AuthonomyClient]:
    with AuthonomyClient(sandbox.api_key, base_url=sandbox.api_base_url) as client:
        yield client


@pytest.fixture
async def async_client(sandbox: Sandbox) -> AsyncIterator[AsyncAuthonomyClient]:
    async with AsyncAuthonomyClient(sandbox.api_key, base_url=sandbox.api_base_url) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def unused_hook_url() -> str:
    # Deliveries to a closed loopback port fail quietly instead of leaving the machine.
    return f"http://127.0.0.1:{free_port()}/webhooks/authonomy"


# --- customers -------------------------------------------------------------------------


def test_list_walks_every_page_of_customers(client: AuthonomyClient) -> None:
    created = {client.customers.create(unique("paged"), "Paged Inc")["id"] for _ in range(3)}
    one_per_page = [customer["id"] for customer in client.customers.list(limit=1)]
    assert {"acme-corp", "globex"} | created <= set(one_per_page)
    assert len(one_per_page) == len(set(one_per_page))
    assert one_per_page == [customer["id"] for customer in client.customers.list(limit=100)]


def test_created_customer_can_be_read_updated_and_filtered(client: AuthonomyClient) -> None:
    customer_id = unique("initech")
    created = client.customers.create(customer_id, "Initech", domains=["initech.example"])
    assert (created["id"], created["name"], created["domains"]) == (
        customer_id,
        "Initech",
        ["initech.example"],
    )
    updated = client.customers.update(customer_id, name="Initech Ltd", status="suspended")
    assert (updated["name"], updated["status"]) == ("Initech Ltd", "suspended")
    assert client.customers.get(customer_id)["name"] == "Initech Ltd"
    active = {customer["id"] for customer in client.customers.list(status="active")}
    assert customer_id not in active
    assert "acme-corp" in active


def test_configured_idp_never_returns_the_client_secret(client: AuthonomyClient) -> None:
    customer_id = client.customers.create(unique("idp"), "IdP Co")["id"]
    answer = client.customers.configure_idp(
        customer_id,
        "okta",
        domain="idp-co.okta.com",
        client_id="cid_123",
        client_secret="super-secret-value",
        scopes=["openid", "profile", "email", "groups"],
    )
    assert "super-secret-value" not in repr(answer)
    assert "super-secret-value" not in repr(client.customers.get(customer_id))


# --- policies ----------------------------------------------------------------------------


def test_policy_lifecycle_create_update_find_assign(client: AuthonomyClient) -> None:
    name = unique("office-hours")
    policy = client.policies.create(
        name, "authorization", {"allowed_groups": ["admins"]}, description="first"
    )
    assert policy["id"].startswith("pol_")
    updated = client.policies.update(policy["id"], description="second")
    assert updated["description"] == "second"
    assert client.policies.get(policy["id"])["description"] == "second"
    found = client.policies.find_by_name(name)
    assert found is not None
    assert found["id"] == policy["id"]
    assert policy["id"] in {p["id"] for p in client.policies.list()}

    customer_id = client.customers.create(unique("assigned"), "Assigned Co")["id"]
    client.policies.assign(customer_id, [policy["id"]])
    assert policy["id"] in {p["id"] for p in client.customers.policies(customer_id)}


def test_seeded_policy_is_found_by_name(client: AuthonomyClient) -> None:
    policy = client.policies.find_by_name("require-mfa")
    assert policy is not None
    assert policy["conditions"].get("mfa_required") is True


def test_unknown_policy_name_finds_nothing(client: AuthonomyClient) -> None:
    assert client.policies.find_by_name(unique("no-such-policy")) is None


def test_unknown_policy_condition_is_a_validation_error(client: AuthonomyClient) -> None:
    with pytest.raises(APIValidationError) as caught:
        client.policies.create(unique("odd"), "authorization", {"moon_phase": "full"})
    assert caught.value.status == 422


def test_unknown_policy_id_is_not_found(client: AuthonomyClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.policies.get("pol_does_not_exist")
    assert caught.value.status == 404


# --- analytics, audit, webhooks ----------------------------------------------------------


def test_analytics_and_audit_answer_with_their_data(client: AuthonomyClient) -> None:
    assert isinstance(client.analytics.dashboard(), dict)
    assert all(isinstance(event, dict) for event in client.analytics.events(limit=10))
    assert all(isinstance(user, dict) for user in client.analytics.users())
    client.customers.create(unique("audited"), "Audited Co")
    assert list(client.audit.logs()) != []


def test_webhook_create_list_delete(client: AuthonomyClient) -> None:
    hook = client.webhooks.create(unused_hook_url(), ["user.authenticated"], "whsec_" + "A" * 32)
    assert hook["id"].startswith("wh_")
    assert "secret" not in hook
    assert hook["id"] in {h["id"] for h in client.webhooks.list()}
    client.webhooks.delete(hook["id"])
    assert hook["id"] not in {h["id"] for h in client.webhooks.list()}


# --- errors and the auth endpoints -------------------------------------------------------


def test_unknown_api_key_is_refused(sandbox: Sandbox) -> None:
    client = AuthonomyClient("ak_not_a_real_key", base_url=sandbox.api_base_url)
    with client, pytest.raises(InvalidAPIKeyError) as caught:
        client.customers.get("acme-corp")
    assert caught.value.status == 401


def test_read_only_key_cannot_write(sandbox: Sandbox) -> None:
    with AuthonomyClient(sandbox.read_only_api_key, base_url=sandbox.api_base_url) as client:
        assert client.customers.get("acme-corp")["id"] == "acme-corp"
        with pytest.raises(InsufficientPermissionsError) as caught:
            client.customers.create(unique("nope"), "Nope")
    assert caught.value.status == 403


def test_unknown_customer_is_invalid_customer_with_request_id(client: AuthonomyClient) -> None:
    with pytest.raises(InvalidCustomerError) as caught:
        client.customers.get("no-such-customer")
    assert caught.value.status == 404
    assert caught.value.message == "Customer 'no-such-customer' not found"
    assert caught.value.request_id


def test_authorize_for_unknown_customer_raises_api_error(client: AuthonomyClient) -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        client.auth.authorize(
            "no-such-customer", "http://127.0.0.1/auth/callback", SCOPES, "c" * 43, "n-1"
        )
    assert isinstance(caught.value, InvalidCustomerError)


def test_authorize_returns_a_login_url_and_state(client: AuthonomyClient) -> None:
    answer = client.auth.authorize(
        "acme-corp", "http://127.0.0.1:8000/auth/callback", SCOPES, "c" * 43, "nonce-1"
    )
    assert answer["authorization_url"].startswith("http")
    assert answer["state"]
    assert answer["expires_in"] > 0


def test_unknown_code_and_refresh_token_are_invalid_grants(client: AuthonomyClient) -> None:
    with pytest.raises(InvalidGrantError):
        client.auth.token("bogus", "bogus", "v" * 43, "http://127.0.0.1:8000/auth/callback")
    with pytest.raises(InvalidGrantError):
        client.auth.refresh("rt_bogus")


# --- async ------------------------------------------------------------------------------


async def test_async_client_lists_creates_and_finds(async_client: AsyncAuthonomyClient) -> None:
    customer_id = unique("async")
    await async_client.customers.create(customer_id, "Async Co")
    ids = [customer["id"] async for customer in async_client.customers.list(limit=1)]
    assert {"acme-corp", "globex", customer_id} <= set(ids)
    updated = await async_client.customers.update(customer_id, name="Async Ltd")
    assert updated["name"] == "Async Ltd"
    policy = await async_client.policies.find_by_name("require-mfa")
    assert policy is not None


async def test_async_client_errors_match_the_contract(
    sandbox: Sandbox, async_client: AsyncAuthonomyClient
) -> None:
    with pytest.raises(InvalidCustomerError):
        await async_client.customers.get("no-such-customer")
    with pytest.raises(APIValidationError):
        await async_client.policies.create(unique("odd"), "authorization", {"moon_phase": 1})
    async with AsyncAuthonomyClient(
        sandbox.read_only_api_key, base_url=sandbox.api_base_url
    ) as read_only:
        with pytest.raises(InsufficientPermissionsError):
            await read_only.webhooks.create(unused_hook_url(), ["user.logged_out"], "s" * 32)


async def test_async_webhooks_and_analytics(async_client: AsyncAuthonomyClient) -> None:
    hook = await async_client.webhooks.create(unused_hook_url(), ["policy.violated"], "x" * 32)
    assert hook["id"] in {h["id"] async for h in async_client.webhooks.list()}
    await async_client.webhooks.delete(hook["id"])
    assert isinstance(await async_client.analytics.dashboard(), dict)
    events = [e async for e in async_client.analytics.events(limit=5)]
    assert all(isinstance(event, dict) for event in events)
