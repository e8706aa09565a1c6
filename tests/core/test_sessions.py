"""Session records: the byte codec and the expiry, refresh and touch decisions."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import pytest

from authonomy_integrations._core.crypto import b64url_encode
from authonomy_integrations._core.sessions import (
    SessionRecord,
    TokenSet,
    is_expired,
    needs_refresh,
    new_record,
    new_session_id,
    store_ttl,
    touch,
    with_tokens,
)
from authonomy_integrations._errors import SessionError

NOW = 1_700_000_000.0


def access_token(claims: dict[str, Any]) -> str:
    """A JWT-shaped token with an RS256-sized signature (the codec never verifies it)."""
    header = {"alg": "RS256", "kid": "key-1", "typ": "at+jwt"}
    parts = [json.dumps(part).encode() for part in (header, claims)]
    return ".".join([*(b64url_encode(p) for p in parts), b64url_encode(os.urandom(256))])


def claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://auth.authonomy.io",
        "aud": "app_123",
        "sub": "user_alice",
        "customer_id": "acme-corp",
        "email": "alice@acme.example",
        "name": "Alice",
        "groups": ["engineering", "admins"],
        "scope": "openid profile email groups",
        "amr": ["pwd", "mfa"],
        "auth_time": int(NOW),
        "sid": "ses_123",
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        **extra,
    }


def record(**changes: Any) -> SessionRecord:
    user = claims()
    tokens = TokenSet(access_token(user), "rt_" + "r" * 40, None, NOW + 3600, "openid profile")
    base = SessionRecord(new_session_id(), tokens, user, created_at=NOW, last_seen=NOW)
    return dataclasses.replace(base, **changes)


def test_token_set_from_token_answer() -> None:
    data = {
        "access_token": "at",
        "refresh_token": "rt",
        "id_token": "it",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid email",
    }
    tokens = TokenSet.from_response(data, NOW)
    assert tokens == TokenSet("at", "rt", "it", NOW + 3600, "openid email")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"access_token": "at"},
        {"refresh_token": "rt"},
        {"access_token": 1, "refresh_token": "rt"},
        {"access_token": "at", "refresh_token": "rt", "expires_in": "soon"},
    ],
)
def test_token_set_rejects_malformed_answer(data: dict[str, Any]) -> None:
    with pytest.raises(SessionError):
        TokenSet.from_response(data, NOW)


def test_record_bytes_roundtrip() -> None:
    original = record()
    assert SessionRecord.from_bytes(original.to_bytes()) == original


def test_record_with_claims_unlike_the_token_roundtrips() -> None:
    original = record(claims={"sub": "user_bob", "groups": ["x"]})
    assert SessionRecord.from_bytes(original.to_bytes()) == original


def test_record_bytes_do_not_duplicate_the_token_claims() -> None:
    original = record()
    assert len(original.to_bytes()) < len(original.tokens.access_token) + 200


def test_id_token_is_not_kept_in_the_record() -> None:
    tokens = TokenSet(access_token(claims()), "rt", "id.token.value", NOW + 3600, "openid")
    started = new_record(new_session_id(), tokens, claims(), NOW)
    assert started.tokens.id_token is None
    assert b"id.token.value" not in started.to_bytes()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"null",
        b"[]",
        b'{"v":1}',
        b'{"v":2,"i":"x"}',
        b'{"v":1,"i":5,"a":"a"}',
        b'{"v":1,"i":"x","a":"a","r":"r","e":"soon","s":"","t":0,"l":0}',
    ],
)
def test_garbage_bytes_decode_to_none(data: bytes) -> None:
    assert SessionRecord.from_bytes(data) is None


def test_new_session_id_is_256_bits_url_safe() -> None:
    assert new_session_id(lambda n: b"\xff" * n) == "_" * 42 + "8"
    assert len(new_session_id()) == 43
    assert new_session_id() != new_session_id()


def test_session_idle_for_longer_than_idle_timeout_is_expired() -> None:
    session = record(last_seen=NOW)
    assert not is_expired(session, NOW + 1800, idle_timeout=1800, max_age=86400)
    assert is_expired(session, NOW + 1801, idle_timeout=1800, max_age=86400)


def test_active_session_expires_at_max_age_since_login() -> None:
    session = record(created_at=NOW - 86400, last_seen=NOW)
    assert not is_expired(session, NOW, idle_timeout=1800, max_age=86400)
    assert is_expired(session, NOW + 1, idle_timeout=1800, max_age=86400)


def test_needs_refresh_within_margin_of_access_token_expiry() -> None:
    session = record()
    expires_at = session.tokens.expires_at
    assert not needs_refresh(session, expires_at - 61, margin=60)
    assert needs_refresh(session, expires_at - 60, margin=60)
    assert needs_refresh(session, expires_at + 10, margin=60)


def test_touch_rewrites_only_after_the_interval() -> None:
    session = record(last_seen=NOW)
    assert touch(session, NOW + 59, interval=60) is None
    touched = touch(session, NOW + 60, interval=60)
    assert touched is not None and touched.last_seen == NOW + 60
    assert touched.created_at == session.created_at


def test_with_tokens_keeps_login_time_and_drops_id_token() -> None:
    session = record(created_at=NOW - 500, last_seen=NOW - 100)
    fresh = TokenSet(access_token(claims(exp=int(NOW) + 7200)), "rt2", "idt", NOW + 7200, "openid")
    refreshed = with_tokens(session, fresh, claims(exp=int(NOW) + 7200), NOW)
    assert refreshed.tokens.refresh_token == "rt2"
    assert refreshed.tokens.id_token is None
    assert refreshed.claims["exp"] == int(NOW) + 7200
    assert refreshed.created_at == NOW - 500
    assert refreshed.last_seen == NOW
    assert refreshed.id == session.id


def test_store_ttl_is_the_time_until_the_session_would_expire() -> None:
    session = record(created_at=NOW - 1000, last_seen=NOW - 100)
    assert store_ttl(session, NOW, idle_timeout=1800, max_age=86400) == 1701
    assert store_ttl(session, NOW, idle_timeout=1800, max_age=1500) == 501
    assert store_ttl(session, NOW + 10_000, idle_timeout=1800, max_age=1500) == 1
