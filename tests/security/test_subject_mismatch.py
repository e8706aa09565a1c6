"""A login whose ID token names another user than its access token signs nobody in.

Authonomy (here, something between the app and the sandbox) answers the code exchange
with bob's access token and an ID token of alice's, valid in every other way (signed,
this login's nonce). The callback refuses with ``subject_mismatch``, both tokens are
revoked (the session at Authonomy, the access token at the app) and no session starts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore

from ..browsing import bearer
from ..serving import serve
from .apps import Adapter
from .flows import authonomy_sessions, browser, sign_in

_HOP_BY_HOP = {"content-length", "content-encoding", "transfer-encoding", "connection"}


def _someone_else(sb: Sandbox, id_token: str) -> str:
    """``id_token`` re-signed by the sandbox's key, naming alice instead."""
    claims = jwt.decode(id_token, options={"verify_signature": False})
    alice = sb.users["alice"]
    claims.update(sub=alice.id, email=alice.email, name=alice.name)
    return sb.state.keys.sign(claims, "JWT")


def _swapping_proxy(sb: Sandbox, issued: list[str]) -> Callable[[str], Starlette]:
    """An API in front of the sandbox's that swaps the ID token of code exchanges (and
    keeps each access token it passes on in ``issued``)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=sb.issuer) as upstream:
            app.state.upstream = upstream
            yield

    async def forward(request: Request) -> Response:
        upstream: httpx.AsyncClient = request.app.state.upstream
        headers = {k: v for k, v in request.headers.items() if k not in ("host", *_HOP_BY_HOP)}
        answer = await upstream.request(
            request.method, request.url.path, headers=headers, content=await request.body()
        )
        body = answer.content
        if request.url.path == "/v1/auth/token" and answer.status_code == 200:
            envelope = json.loads(body)
            data = envelope["data"]
            issued.append(data["access_token"])
            data["id_token"] = _someone_else(sb, data["id_token"])
            body = json.dumps(envelope).encode()
        kept = {k: v for k, v in answer.headers.items() if k not in _HOP_BY_HOP}
        return Response(body, status_code=answer.status_code, headers=kept)

    methods = ["GET", "POST", "PUT", "DELETE"]
    routes = [Route("/{path:path}", forward, methods=methods)]
    return lambda url: Starlette(routes=routes, lifespan=lifespan)


def test_id_token_of_another_user_signs_nobody_in_and_revokes_both_tokens(
    adapter: Adapter, sb: Sandbox
) -> None:
    store = MemorySessionStore()
    hooked: list[AuthEvent] = []
    issued: list[str] = []
    with serve(_swapping_proxy(sb, issued)) as api_url:

        def config(url: str) -> Any:
            return sb.config(
                app_url=url,
                api_base_url=f"{api_url}/v1",
                session_store=store,
                on_event=hooked.append,
                max_retries=0,
            )

        with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
            answer = sign_in(http, user="bob")
            assert answer.status_code == 400, answer.text
            assert "authonomy_session" not in http.cookies
            assert len(store) == 0
            [access_token] = issued
            sid = jwt.decode(access_token, options={"verify_signature": False})["sid"]
            [session] = [s for s in authonomy_sessions(sb, "bob") if s.id == sid]
            assert session.revoked  # at Authonomy: its refresh token is dead
            # At the app: the access token of the refused login is refused too.
            with httpx.Client(base_url=url) as api:
                assert api.get("/whoami", headers=bearer(access_token)).status_code == 401
    failed = [e for e in hooked if e.name == "login.failed"]
    assert [e.reason for e in failed] == ["subject_mismatch"]
    assert not [e for e in hooked if e.name in ("login.completed", "session.created")]
