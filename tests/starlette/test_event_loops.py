"""The middleware's calls to Authonomy work on whichever event loop runs the request.

FastAPI's documentation writes ``client = TestClient(app)`` without ``with``: every
request then runs on a new event loop. pytest-asyncio gives each test function its own
loop, and anyio runs its own. One app object must sign in under all of them, and close
each loop's connections on that loop (a socket left to the garbage collector is a
``ResourceWarning``, an error in this suite).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from authonomy_integrations import AsyncAuthonomyClient
from authonomy_integrations._core.effects import Exclusive, Flow, Sleep
from authonomy_integrations._runtime import AuthonomyAsync
from authonomy_integrations._transport import PerLoopTransport
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware
from authonomy_integrations.testing import alogin_as, login_as
from examples.fastapi_app import create_app


def _runtime(app: FastAPI) -> AuthonomyAsync:
    layer: Any = app.middleware_stack
    while not isinstance(layer, AuthonomyMiddleware):
        layer = layer.app
    return layer.runtime


def _open_pools(app: FastAPI) -> int:
    if app.middleware_stack is None:  # no request yet
        return 0
    return _runtime(app)._transport.open_pools


def test_plain_test_client_signs_in_and_keeps_no_socket(sb: Sandbox) -> None:
    app = create_app(sb.config(app_url="http://localhost"))
    client = TestClient(app)  # no ``with``: each request on a new event loop
    assert login_as(client, "alice", next_path="/profile") == "/profile"
    assert client.get("/api/me").json()["email"] == "alice@acme-corp.com"
    assert client.get("/admin").status_code == 200
    # Each request's loop closed its connections before it closed itself.
    assert _open_pools(app) == 0
    gc.collect()  # a socket left behind would warn now


def test_test_client_with_block_reuses_one_pool_and_closes_it(sb: Sandbox) -> None:
    app = create_app(sb.config(app_url="http://localhost"))
    with TestClient(app) as client:
        login_as(client, "bob")
        http = _runtime(app)._http
        login_as(client, "alice")
        assert _runtime(app)._http is http, "one HTTP client for the app's lifetime"
        assert _open_pools(app) == 1
    assert _open_pools(app) == 0
    # The same app runs again afterwards, plain and with ``with``.
    assert login_as(TestClient(app), "alice") == "/"
    with TestClient(app) as client:
        assert login_as(client, "bob") == "/"


def test_both_client_styles_alternate_on_one_app(sb: Sandbox) -> None:
    app = create_app(sb.config(app_url="http://localhost"))
    for _ in range(2):
        login_as(TestClient(app), "bob")
        with TestClient(app) as client:
            login_as(client, "alice")
    assert _open_pools(app) == 0


@pytest.fixture(scope="module")
def shared_app(sb: Sandbox) -> Iterator[FastAPI]:
    """One app for several tests, each on its own event loop (pytest-asyncio's default)."""
    yield create_app(sb.config(app_url="http://localhost"))


@pytest.mark.parametrize("run", ["first", "second"])
async def test_each_pytest_asyncio_loop_signs_in(shared_app: FastAPI, run: str) -> None:
    # A previous test's loop has closed its pool: none is left behind here.
    assert _open_pools(shared_app) == 0
    transport = httpx.ASGITransport(app=shared_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        await alogin_as(client, "bob")
        me = await client.get("/api/me")
    assert me.json()["email"] == "bob@acme-corp.com"


def test_anyio_runs_sign_in_on_new_loops(sb: Sandbox) -> None:
    app = create_app(sb.config(app_url="http://localhost"))

    async def sign_in() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            await alogin_as(c, "alice")
            return str((await c.get("/api/me")).json()["email"])

    assert anyio.run(sign_in) == "alice@acme-corp.com"
    assert anyio.run(sign_in) == "alice@acme-corp.com"
    assert _open_pools(app) == 0


def test_async_api_client_works_on_successive_loops(sb: Sandbox) -> None:
    client = AsyncAuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url)

    async def customer_ids() -> list[str]:
        return [customer["id"] async for customer in client.customers.list()]

    first = asyncio.run(customer_ids())
    assert asyncio.run(customer_ids()) == first
    assert "acme-corp" in first
    asyncio.run(client.aclose())


def test_a_loop_closed_by_hand_is_forgotten(sb: Sandbox) -> None:
    transport = PerLoopTransport()
    client = httpx.AsyncClient(transport=transport)
    jwks = f"{sb.issuer}/.well-known/jwks.json"
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(client.get(jwks)).status_code == 200
        assert transport.open_pools == 1
        loop.run_until_complete(transport.reset())  # what the app's shutdown does
        assert transport.open_pools == 0
        assert loop.run_until_complete(client.get(jwks)).status_code == 200
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    assert transport.open_pools == 0
    assert asyncio.run(client.get(jwks)).status_code == 200
    assert transport.open_pools == 0


def test_single_flight_locks_work_on_successive_loops(sb: Sandbox) -> None:
    runtime = AuthonomyAsync(sb.config(app_url="http://localhost"))
    order: list[str] = []

    def fetch(name: str) -> Flow[str]:
        order.append(f"{name} in")
        yield Sleep(0.01)  # the other task asks for the lock meanwhile
        order.append(f"{name} out")
        return name

    def single_flight(name: str) -> Flow[str]:
        result: str = yield Exclusive("keys", lambda: fetch(name))
        return result

    async def two_at_once() -> list[str]:
        return list(
            await asyncio.gather(runtime.run(single_flight("a")), runtime.run(single_flight("b")))
        )

    for _ in range(2):  # the second loop finds the lock the first one waited on
        order.clear()
        assert asyncio.run(two_at_once()) == ["a", "b"]
        assert order == ["a in", "a out", "b in", "b out"], "one at a time"
