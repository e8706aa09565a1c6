"""The ``Sandbox`` object: lifecycle, outages, counters, config and the pytest fixture."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox

from .helpers import api


def test_issuer_and_api_url_are_loopback_on_the_chosen_port(sb: Sandbox) -> None:
    assert sb.issuer == f"http://127.0.0.1:{sb.port}"
    assert sb.api_base_url == f"{sb.issuer}/v1"


def test_stop_and_start_keep_port_and_state(sb: Sandbox) -> None:
    with api(sb) as client:
        client.post("/customers", json={"id": "survivor", "name": "Survivor"})
    port = sb.port
    sb.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sb.issuer}/.well-known/jwks.json")
    sb.start()
    assert sb.port == port
    with api(sb) as client:
        assert client.get("/customers/survivor").status_code == 200


def test_down_refuses_connections_only_inside_the_block(sb: Sandbox) -> None:
    with sb.down(), pytest.raises(httpx.ConnectError):
        httpx.get(f"{sb.issuer}/.well-known/jwks.json")
    assert httpx.get(f"{sb.issuer}/.well-known/jwks.json").status_code == 200


def test_request_count_counts_requests_by_method_and_path(sb: Sandbox) -> None:
    before = sb.request_count("POST", "/v1/auth/refresh")
    with api(sb) as client:
        for _ in range(3):
            client.post("/auth/refresh", json={"refresh_token": "rt_x"})
        client.get("/auth/refresh")
    assert sb.request_count("POST", "/v1/auth/refresh") == before + 3


def test_config_points_at_the_sandbox(sb: Sandbox) -> None:
    config = sb.config(customer_id="globex")
    assert isinstance(config, AuthonomyConfig)
    assert config.environment == "sandbox"
    assert config.resolved_api_base_url == sb.api_base_url
    assert config.resolved_issuer == sb.issuer
    assert (config.api_key, config.audience, config.customer_id) == (
        sb.api_key,
        sb.audience,
        "globex",
    )
    assert config.app_url == "http://127.0.0.1:8000"
    assert len(config.session_secrets[0]) >= 32
    assert sb.config().session_secrets != config.session_secrets


def test_seeded_users_are_exposed_by_name(sb: Sandbox) -> None:
    alice, bob = sb.users["alice"], sb.users["bob"]
    assert (alice.customer_id, alice.groups, alice.mfa_enrolled) == (
        "acme-corp",
        ("admins", "engineering"),
        True,
    )
    assert (bob.groups, bob.mfa_enrolled) == (("engineering",), False)
    assert any(user.customer_id == "globex" for user in sb.users.values())


def test_pytest_plugin_fixture_serves_a_running_sandbox(authonomy_sandbox: Sandbox) -> None:
    response = httpx.get(f"{authonomy_sandbox.issuer}/.well-known/openid-configuration")
    assert response.json()["issuer"] == authonomy_sandbox.issuer
