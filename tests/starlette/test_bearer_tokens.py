"""Bearer tokens through the middleware under uvicorn: each bad kind is refused with 401."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import API, bearer, forged, mint


@pytest.fixture
def client(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url) as http:
        yield http


def test_valid_token_reads_the_api_and_repeat_calls_skip_verification(
    client: httpx.Client, sb: Sandbox
) -> None:
    token = mint(sb)
    first = client.get("/api/me", headers=bearer(token))
    assert first.status_code == 200
    assert first.json()["groups"] == ["admins", "engineering"]
    fetches = sb.request_count("GET", "/.well-known/jwks.json")
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    assert sb.request_count("GET", "/.well-known/jwks.json") == fetches


def _expired(sb: Sandbox) -> str:
    now = int(sb.state.clock.now())
    return mint(sb, iat=now - 7200, nbf=now - 7200, exp=now - 3600, auth_time=now - 7200)


BAD_TOKENS: dict[str, Callable[[Sandbox], str]] = {
    "garbage": lambda sb: "not.a.jwt",
    "expired": _expired,
    "wrong-audience": lambda sb: mint(sb, aud="app_someone_else"),
    "wrong-issuer": lambda sb: mint(sb, iss="http://127.0.0.1:1"),
    "bad-signature": forged,
    "id-token-type": lambda sb: mint(sb, typ="JWT"),
    "no-subject": lambda sb: mint(sb, sub=None),
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_bad_bearer_token_is_refused_with_401(client: httpx.Client, sb: Sandbox, kind: str) -> None:
    answer = client.get("/api/me", headers=bearer(BAD_TOKENS[kind](sb)))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_bad_token_on_a_public_page_is_refused_too(client: httpx.Client, sb: Sandbox) -> None:
    # A wrong token is a client bug: never quietly serve it as a signed-out visitor.
    assert client.get("/", headers=bearer(mint(sb, aud="other"))).status_code == 401


def test_bearer_header_with_spaces_in_token_is_refused(client: httpx.Client) -> None:
    headers = {**API, "authorization": "Bearer two words"}
    assert client.get("/api/me", headers=headers).status_code == 401


def test_token_signed_after_key_rotation_is_accepted(client: httpx.Client, sb: Sandbox) -> None:
    sb.rotate_keys()
    sb.advance_clock(31)  # past the key-set refetch cooldown
    assert client.get("/api/me", headers=bearer(mint(sb))).status_code == 200
