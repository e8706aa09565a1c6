"""Server faults at the sandbox: the client retries what is safe to retry, and a session
outlives a refresh that failed while its token is still good."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations import AuthonomyClient, InternalServerError
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox

from .helpers import access_token, sign_in


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def test_a_read_is_retried_after_a_server_fault(sb: Sandbox) -> None:
    sb.fail_next("GET", "/v1/customers/acme-corp")
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url, max_retries=2) as client:
        before = sb.request_count("GET", "/v1/customers/acme-corp")
        customer = client.customers.get("acme-corp")
    assert customer["id"] == "acme-corp"
    assert sb.request_count("GET", "/v1/customers/acme-corp") == before + 2


def test_a_write_is_not_retried_after_a_server_fault(sb: Sandbox) -> None:
    sb.fail_next("POST", "/v1/policies")
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url, max_retries=2) as client:
        before = sb.request_count("POST", "/v1/policies")
        with pytest.raises(InternalServerError) as raised:
            client.policies.create(name="once-only", type="authorization", conditions={})
    assert raised.value.request_id
    assert sb.request_count("POST", "/v1/policies") == before + 1


def test_session_survives_a_refresh_that_hit_a_server_fault(sb: Sandbox) -> None:
    kit = AuthonomySync(sb.config(refresh_margin=3600))
    try:
        done = sign_in(kit)
        sb.fail_next("POST", "/v1/auth/refresh")
        assert kit.authenticate_session(done.session_cookie).user is not None
        before = sb.request_count("POST", "/v1/auth/refresh")
        assert kit.authenticate_session(done.session_cookie).user is not None
        assert sb.request_count("POST", "/v1/auth/refresh") == before + 1  # tried again
    finally:
        kit.close()


def test_a_rotation_announced_ahead_needs_no_extra_key_fetch(sb: Sandbox) -> None:
    kit, minter = AuthonomySync(sb.config()), AuthonomySync(sb.config())
    try:
        sb.publish_next_key()  # the new kid is in the set before anything is signed with it
        kit.authenticate_bearer(access_token(minter))
        fetches = sb.request_count("GET", "/.well-known/jwks.json")
        sb.rotate_keys()
        kit.authenticate_bearer(access_token(minter))
        assert sb.request_count("GET", "/.well-known/jwks.json") == fetches
    finally:
        kit.close()
        minter.close()
