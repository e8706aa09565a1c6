"""Guards used as FastAPI dependencies refuse however FastAPI calls them.

FastAPI before 0.124 (still inside the declared ``fastapi>=0.110``) reads a callable
instance's parameters without resolving string annotations, and calls an instance whose
``__call__`` is not a coroutine function in a worker thread. There ``Depends(login_required)``
answered 422 to everyone, and, once the parameter was found, let everyone through: the
coroutine it handed back was never run. The lowest-versions CI run covers those FastAPI
releases; these tests call the guards the way they did, on the FastAPI installed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection, Request
from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    login_required,
    require_groups,
)
from authonomy_integrations.testing import login_as

from ..browsing import API


# A sync dependency runs in a worker thread, where old FastAPI called the guard.
def signed_in_as_old_fastapi_calls_it(request: Request) -> Any:
    return login_required(request=request)


def admins_as_old_fastapi_calls_it(request: Request) -> Any:
    return require_groups("admins")(request=request)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with Sandbox() as sb:
        app = FastAPI()
        app.add_middleware(AuthonomyMiddleware, config=sb.config(app_url="http://localhost"))

        @app.get("/me")
        async def me(
            user: Annotated[Any, Depends(signed_in_as_old_fastapi_calls_it)],
        ) -> dict[str, str]:
            return {"id": user.id}

        @app.get("/admins", dependencies=[Depends(admins_as_old_fastapi_calls_it)])
        async def admins() -> dict[str, bool]:
            return {"ok": True}

        with TestClient(app, base_url="http://localhost") as test_client:
            yield test_client


def test_guard_called_in_a_worker_thread_refuses_a_signed_out_caller(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/me", headers=API).status_code == 401
    assert client.get("/admins", headers=API).status_code == 401


def test_guard_called_in_a_worker_thread_gives_the_user_and_refuses_others(
    client: TestClient,
) -> None:
    login_as(client, "bob")
    assert client.get("/me", headers=API).json() == {"id": "user_bob"}
    refused = client.get("/admins", headers=API)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "POLICY_VIOLATED"


@pytest.mark.parametrize("guard", [login_required, require_groups("admins")])
def test_guard_signature_needs_no_resolving(guard: Any) -> None:
    # Old FastAPI found no ``HTTPConnection`` behind the string annotation: a query parameter.
    parameter = inspect.signature(guard).parameters["request"]
    assert parameter.annotation is HTTPConnection
