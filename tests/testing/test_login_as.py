"""``login_as`` and the ``authonomy_sandbox`` fixture, as users' own tests use them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware
from authonomy_integrations.testing import LoginAsError, alogin_as, login_as
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.quart_app.app import create_app as create_quart_app
from tests.adapters import ADAPTERS, Adapter


@pytest.fixture
def fastapi_client(authonomy_sandbox: Sandbox) -> Iterator[TestClient]:
    app = create_fastapi_app(authonomy_sandbox.config(app_url="http://localhost"))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def flask_app(authonomy_sandbox: Sandbox) -> Iterator[Flask]:
    app = create_flask_app(authonomy_sandbox.config(app_url="http://localhost"))
    yield app
    app.extensions["authonomy"].close()


def test_login_as_signs_a_starlette_test_client_in(fastapi_client: TestClient) -> None:
    assert fastapi_client.get("/api/me").status_code == 401
    assert login_as(fastapi_client, "alice", next_path="/profile") == "/profile"
    assert fastapi_client.get("/api/me").json()["email"] == "alice@acme-corp.com"
    assert fastapi_client.get("/admin").status_code == 200


def test_login_as_overrides_groups_and_mfa(fastapi_client: TestClient) -> None:
    login_as(fastapi_client, "alice", groups=["support"], mfa=False)
    me = fastapi_client.get("/api/me").json()
    assert me["groups"] == ["support"]
    admin = fastapi_client.get("/admin", headers={"accept": "application/json"})
    assert admin.status_code == 403
    assert admin.json()["error"]["code"] == "POLICY_VIOLATED"


def test_login_as_signs_a_flask_test_client_in(flask_app: Flask) -> None:
    client = flask_app.test_client()
    login_as(client, "bob")
    assert client.get("/api/me").get_json()["email"] == "bob@acme-corp.com"


async def test_alogin_as_signs_an_async_client_in(authonomy_sandbox: Sandbox) -> None:
    app = create_fastapi_app(authonomy_sandbox.config(app_url="http://localhost"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        await alogin_as(client, "bob")
        me = await client.get("/api/me")
    assert me.json()["email"] == "bob@acme-corp.com"
    # ASGITransport runs no lifespan, so close the middleware's connections by hand.
    await _middleware(app.middleware_stack).runtime.aclose()


async def test_alogin_as_signs_quarts_test_client_in_with_and_without_async_with(
    authonomy_sandbox: Sandbox,
) -> None:
    app = create_quart_app(authonomy_sandbox.config(app_url="http://localhost"))
    async with app.test_client() as client:
        assert await alogin_as(client, "alice", next_path="/profile") == "/profile"
        assert (await (await client.get("/api/me")).get_json())["id"] == "user_alice"
    plain = app.test_client()
    await alogin_as(plain, "bob")
    assert (await (await plain.get("/api/me")).get_json())["id"] == "user_bob"
    await app.extensions["authonomy"].aclose()


def _middleware(layer: Any) -> AuthonomyMiddleware:
    while not isinstance(layer, AuthonomyMiddleware):
        layer = layer.app
    return layer


def test_login_as_explains_an_app_without_the_kits_routes() -> None:
    bare = Flask("bare")
    with pytest.raises(LoginAsError, match="login route"):
        login_as(bare.test_client(), "bob")


def _unreachable_authonomy(sb: Sandbox) -> AuthonomyConfig:
    """A sandbox configuration whose Authonomy no longer answers (its port is closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    return sb.config(app_url="http://localhost", api_base_url=f"{dead}/v1", max_retries=0)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=str)
def test_login_as_says_to_start_the_sandbox_when_the_app_cannot_reach_it(
    adapter: Adapter, authonomy_sandbox: Sandbox
) -> None:
    # The usual case: a test built from the variables of a sandbox that is not running.
    config = _unreachable_authonomy(authonomy_sandbox)
    with adapter.calling(config) as (client, _app), pytest.raises(LoginAsError) as raised:
        login_as(client, "bob")
    message = str(raised.value)
    assert message.startswith("login route: expected a redirect, got 503")
    assert "start the sandbox its configuration names (authonomy-sandbox)" in message
