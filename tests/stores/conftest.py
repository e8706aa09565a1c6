"""Fixtures shared by the session store tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from authonomy_integrations._core.crypto import b64url_encode
from authonomy_integrations._core.sessions import SessionRecord, TokenSet, new_session_id

NOW = 1_700_000_000.0

RecordFactory = Callable[..., SessionRecord]


def _access_token(claims: dict[str, Any]) -> str:
    header = {"alg": "RS256", "kid": "key-2024-01", "typ": "at+jwt"}
    parts = [b64url_encode(json.dumps(part).encode()) for part in (header, claims)]
    return ".".join([*parts, b64url_encode(os.urandom(256))])


def _claims(groups: list[str]) -> dict[str, Any]:
    return {
        "iss": "https://auth.authonomy.io",
        "aud": "app_123",
        "sub": "user_" + b64url_encode(os.urandom(12)),
        "customer_id": "acme-corp",
        "email": "alice@acme.example",
        "name": "Alice Example",
        "groups": groups,
        "scope": "openid profile email groups",
        "amr": ["pwd", "mfa"],
        "auth_time": int(NOW),
        "sid": "ses_" + b64url_encode(os.urandom(12)),
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 3600,
        "jti": b64url_encode(os.urandom(16)),
    }


@pytest.fixture
def make_record() -> RecordFactory:
    """Builds realistic records: RS256-sized access token, claims, rotating refresh token."""

    def make(groups: list[str] | None = None, refresh_token: str | None = None) -> SessionRecord:
        claims = _claims(groups if groups is not None else ["engineering", "admins", "on-call"])
        tokens = TokenSet(
            access_token=_access_token(claims),
            refresh_token=refresh_token or "rt_" + b64url_encode(os.urandom(32)),
            id_token=None,
            expires_at=NOW + 3600,
            scope="openid profile email groups",
        )
        return SessionRecord(new_session_id(), tokens, claims, created_at=NOW, last_seen=NOW)

    return make
