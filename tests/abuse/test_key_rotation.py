"""Key rotation without a restart window, and forged kid values that cost one fetch."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authonomy_integrations.sandbox import Sandbox
from tests.browsing import access_claims, mint

from .apps import ADAPTERS, kit

JWKS = ("GET", "/.well-known/jwks.json")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _bearer(token: str) -> dict[str, str]:
    return {"accept": "application/json", "authorization": f"Bearer {token}"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_token_signed_by_a_key_published_just_after_start_up_is_accepted(
    adapter: str, sb: Sandbox
) -> None:
    with kit(adapter, sb.config(max_retries=0), clock=sb.state.clock.now) as app:
        assert app.client.get("/home", headers=_bearer(mint(sb))).status_code == 200
        fetches = sb.request_count(*JWKS)
        sb.rotate_keys()  # an emergency rotation: the new key signs as soon as it is published
        answer = app.client.get("/home", headers=_bearer(mint(sb)))
        assert answer.status_code == 200
        assert sb.request_count(*JWKS) == fetches + 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_flood_of_made_up_kids_costs_at_most_one_key_fetch(adapter: str, sb: Sandbox) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with kit(adapter, sb.config(max_retries=0), clock=sb.state.clock.now) as app:
        assert app.client.get("/home", headers=_bearer(mint(sb))).status_code == 200
        fetches = sb.request_count(*JWKS)
        for _ in range(50):
            headers = {"kid": secrets.token_hex(8), "typ": "at+jwt"}
            token = jwt.encode(access_claims(sb), stranger, algorithm="RS256", headers=headers)
            assert app.client.get("/home", headers=_bearer(token)).status_code == 401
        assert sb.request_count(*JWKS) <= fetches + 1
        # The allowance is spent on forgeries: a real new key waits for the cooldown...
        sb.rotate_keys()
        assert app.client.get("/home", headers=_bearer(mint(sb))).status_code == 401
        # ...and is found once it has passed.
        sb.advance_clock(31)
        assert app.client.get("/home", headers=_bearer(mint(sb))).status_code == 200
