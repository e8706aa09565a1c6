"""Bearer tokens through each adapter's example app over real HTTP: a real token reads the
API without a cookie; look-alike, expired and forged tokens get 401 before any view runs;
a key rotation is followed, and an unknown key while the key set is unreachable is 503."""

from __future__ import annotations

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import Sandbox

from ..adapters import Adapter
from ..browsing import access_claims, bearer, forged, issue_tokens, mint, signed_by_sandbox
from .conftest import example

#: Seconds after which the app fetches the key set again for an unknown key id.
KEY_SET_COOLDOWN = 30


def test_bearer_token_authenticates_api_calls_without_a_cookie(live: str, sandbox: Sandbox) -> None:
    tokens = issue_tokens(sandbox, "bob")
    with httpx.Client(base_url=live) as script:
        first = script.get("/api/me", headers=bearer(tokens.access_token))
        fetches = sandbox.request_count("GET", "/.well-known/jwks.json")
        again = script.get("/api/me", headers=bearer(tokens.access_token))
    # The repeat call is answered from what the first one verified: no key-set fetch.
    assert sandbox.request_count("GET", "/.well-known/jwks.json") == fetches
    assert first.status_code == again.status_code == 200
    assert first.json()["email"] == "bob@acme-corp.com"
    assert first.json()["groups"] == ["engineering"]
    assert again.json() == first.json()
    assert "set-cookie" not in first.headers


def _bad_token(kind: str, sandbox: Sandbox) -> str:
    if kind == "garbage":
        return "not-a-token"
    if kind in ("expired", "id-token"):  # tokens of a real login
        tokens = issue_tokens(sandbox, "bob")
        if kind == "id-token":
            return tokens.id_token
        sandbox.advance_clock(60)  # past the token's life and 30 seconds of leeway
        return tokens.access_token
    claims = access_claims(sandbox)  # what the sandbox would sign for alice, right now
    if kind == "wrong-audience":
        return signed_by_sandbox(sandbox, {**claims, "aud": "app_someone_else"})
    if kind == "wrong-issuer":
        return signed_by_sandbox(sandbox, {**claims, "iss": "http://127.0.0.1:1"})
    if kind == "foreign-signature":
        return forged(sandbox, claims)
    if kind == "id-token-type":
        return signed_by_sandbox(sandbox, claims, typ="JWT")
    if kind == "no-subject":
        return signed_by_sandbox(sandbox, {k: v for k, v in claims.items() if k != "sub"})
    if kind == "spaces":
        return "two words"
    assert kind == "alg-none"
    return jwt.encode(claims, key=None, algorithm="none", headers={"typ": "at+jwt"})


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "foreign-signature",
        "alg-none",
        "id-token",
        "id-token-type",
        "no-subject",
        "spaces",
    ],
)
def test_bad_bearer_token_is_refused_with_401(live: str, sandbox: Sandbox, kind: str) -> None:
    token = _bad_token(kind, sandbox)
    with httpx.Client(base_url=live) as script:
        # Even a page that needs no user: a bad token is refused before any view runs.
        page = script.get("/", headers={"Authorization": f"Bearer {token}"})
        api = script.get("/api/me", headers=bearer(token))
    for response in (page, api):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_token_the_sandbox_signs_is_accepted(live: str, sandbox: Sandbox) -> None:
    # The look-alikes above are this token with one fault each.
    with httpx.Client(base_url=live) as script:
        response = script.get("/api/me", headers=bearer(mint(sandbox)))
    assert response.status_code == 200
    assert response.json()["email"] == "alice@acme-corp.com"
    assert response.json()["groups"] == ["admins", "engineering"]


def test_token_signed_after_key_rotation_is_accepted(live: str, sandbox: Sandbox) -> None:
    with httpx.Client(base_url=live) as script:
        before = issue_tokens(sandbox, "bob").access_token
        assert script.get("/api/me", headers=bearer(before)).status_code == 200
        sandbox.rotate_keys()
        sandbox.advance_clock(KEY_SET_COOLDOWN + 1)
        after = issue_tokens(sandbox, "bob").access_token
        response = script.get("/api/me", headers=bearer(after))
    assert response.status_code == 200
    assert response.json()["email"] == "bob@acme-corp.com"


def test_key_set_unreachable_before_the_first_token_answers_503(
    adapter: Adapter, sandbox: Sandbox
) -> None:
    sandbox.rotate_keys()
    sandbox.advance_clock(KEY_SET_COOLDOWN + 1)
    token = issue_tokens(sandbox, "bob").access_token
    # An app of its own: one that has not fetched the key set yet.
    with example(adapter, sandbox) as url, httpx.Client(base_url=url) as script, sandbox.down():
        response = script.get("/api/me", headers=bearer(token))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1


def test_repeated_authorization_headers_are_refused(live: str, sandbox: Sandbox) -> None:
    # Two Authorization headers are one malformed credential in every adapter (WSGI
    # servers and Django join them; the ASGI path joins them likewise): neither wins.
    good = ("Authorization", f"Bearer {issue_tokens(sandbox, 'bob').access_token}")
    bad = ("Authorization", "Bearer not-a-token")
    with httpx.Client(base_url=live) as script:
        assert script.get("/api/me", headers=[good]).status_code == 200
        for pair in ([good, bad], [bad, good], [good, good]):
            assert script.get("/api/me", headers=pair).status_code == 401
