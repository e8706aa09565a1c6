"""A view gets the signed-in user's access token to call another API as that user: the
bearer token it was called with, or its session's, refreshed first when due; never an
attribute of the user object. Over every adapter, sync and async views."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from authonomy_integrations import AuthonomyUser
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore

from ..browsing import API, bearer, claims_of
from .apps import Adapter
from .flows import browser, sign_in, token_with

VIEWS = ["/token", "/token/async"]


def _token(http: httpx.Client, path: str, **kw: object) -> str | None:
    answer = http.get(path, **kw)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    token: str | None = answer.json()["token"]
    return token


def test_a_bearer_callers_token_is_the_one_it_sent(adapter: Adapter, sb: Sandbox) -> None:
    token = token_with(sb)["access_token"]
    with (
        adapter.serve(lambda url: sb.config(app_url=url)) as url,
        httpx.Client(base_url=url) as http,
    ):
        for path in VIEWS:
            assert _token(http, path, headers=bearer(token)) == token
            assert _token(http, path, headers=API) is None  # nobody: no token


@pytest.mark.parametrize("kind", ["memory", "cookie"])
def test_a_sessions_token_is_refreshed_first_when_due(
    adapter: Adapter, sb: Sandbox, kind: str
) -> None:
    store = MemorySessionStore() if kind == "memory" else CookieSessionStore("c" * 40)
    clock = sb.state.clock
    serving = adapter.serve(lambda url: sb.config(app_url=url, session_store=store), clock.now)
    with serving as url, browser(url) as http:
        sign_in(http)
        record = store.load(http.cookies["authonomy_session"])
        assert record is not None
        first = record.tokens.access_token
        assert all(_token(http, path, headers=API) == first for path in VIEWS)
        # Within the refresh margin: the request that asks refreshes first.
        clock.advance(record.tokens.expires_at - clock.now() - 30)
        for path in VIEWS:
            fresh = _token(http, path, headers=API)
            current = store.load(http.cookies["authonomy_session"])
            assert current is not None
            assert fresh == current.tokens.access_token != first
            assert claims_of(fresh)["exp"] > claims_of(first)["exp"]
            assert claims_of(fresh)["sub"] == "user_bob"


def test_the_token_is_no_attribute_of_the_user() -> None:
    user = AuthonomyUser.from_claims({"sub": "user_bob", "iss": "https://issuer.example"})
    names = {field.name for field in dataclasses.fields(user)} | set(dir(user))
    assert not any("token" in name for name in names)
