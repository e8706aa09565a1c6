"""Minting the token set of a session: access token, ID token and refresh token."""

from __future__ import annotations

import secrets
from typing import Any

from ._keys import KeyRing
from ._models import IssuedTokens, Session

__all__ = ["mint_access_token", "mint_token_set", "new_refresh_token"]


def new_refresh_token() -> str:
    """An opaque, unguessable refresh token."""
    return f"rt_{secrets.token_urlsafe(32)}"


def _identity_claims(session: Session, issuer: str, now: int, ttl: int) -> dict[str, Any]:
    user = session.identity.user
    amr = ["pwd", "mfa"] if session.identity.mfa else ["pwd"]
    return {
        "iss": issuer,
        "aud": session.application_id,
        "sub": user.id,
        "customer_id": user.customer_id,
        "email": user.email,
        "name": user.name,
        "groups": list(session.identity.groups),
        "amr": amr,
        "auth_time": int(session.auth_time),
        "sid": session.id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
    }


def mint_access_token(keys: KeyRing, session: Session, issuer: str, now: float, ttl: int) -> str:
    """Sign a fresh access token for ``session``, valid for ``ttl`` seconds."""
    access_claims = {
        **_identity_claims(session, issuer, int(now), ttl),
        "scope": " ".join(session.scopes),
        # RFC 9068 asks access tokens to name the client they were issued to.
        "client_id": session.application_id,
    }
    return keys.sign(access_claims, typ="at+jwt")


def mint_token_set(
    keys: KeyRing, session: Session, issuer: str, now: float, ttl: int, refresh_token: str
) -> IssuedTokens:
    """Sign a fresh access token and ID token for ``session``."""
    scope = " ".join(session.scopes)
    id_claims = _identity_claims(session, issuer, int(now), ttl)
    if session.nonce is not None:
        id_claims["nonce"] = session.nonce
    return IssuedTokens(
        access_token=mint_access_token(keys, session, issuer, now, ttl),
        refresh_token=refresh_token,
        id_token=keys.sign(id_claims, typ="JWT"),
        expires_in=ttl,
        scope=scope,
    )
