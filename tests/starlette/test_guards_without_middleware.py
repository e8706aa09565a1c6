"""A guard trusts only the user that ``AuthonomyMiddleware`` found: a user some other
middleware put in the scope, with the kit's middleware missing, is an error that says
what to install, never a way in (Starlette endpoints and FastAPI dependencies alike)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from authonomy_integrations._core.user import AuthonomyUser
from authonomy_integrations.starlette import (
    current_user,
    login_required,
    require_groups,
)

ALICE = AuthonomyUser(id="alice", issuer="https://issuer.example", groups=frozenset({"staff"}))


class ForeignUser:
    """Another middleware that claims a user, without the kit's runtime."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["user"] = ALICE
        await self.app(scope, receive, send)


async def secret(request: Request) -> PlainTextResponse:
    return PlainTextResponse("secret")


def starlette_app(guard: Any) -> Starlette:
    app = Starlette(routes=[Route("/secret", guard(secret))])
    app.add_middleware(ForeignUser)
    return app


def fastapi_app(dependency: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/secret", dependencies=[Depends(dependency)])
    def read() -> str:
        return "secret"

    app.add_middleware(ForeignUser)
    return app


GUARDS = pytest.mark.parametrize(
    "guard", [login_required, require_groups("staff")], ids=["login_required", "groups"]
)


@GUARDS
def test_starlette_endpoint_refuses_a_user_the_kit_did_not_find(guard: Any) -> None:
    with pytest.raises(RuntimeError, match="AuthonomyMiddleware is not installed"):
        TestClient(starlette_app(guard)).get("/secret")


@GUARDS
def test_fastapi_dependency_refuses_a_user_the_kit_did_not_find(guard: Any) -> None:
    with pytest.raises(RuntimeError, match="AuthonomyMiddleware is not installed"):
        TestClient(fastapi_app(guard)).get("/secret")


def test_current_user_refuses_a_user_the_kit_did_not_find() -> None:
    with TestClient(fastapi_app(current_user)) as client, pytest.raises(RuntimeError):
        client.get("/secret")
