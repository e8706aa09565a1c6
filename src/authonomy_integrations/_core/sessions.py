"""Session records and the pure decisions about them (expiry, refresh, touch).

A :class:`SessionRecord` is what a session store keeps between requests. Its byte form
is compact JSON: the ID token is never kept (nothing needs it after login, and cookies
must stay small), and the user claims are left out when they are exactly the access
token's payload, from which they are rebuilt on load.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import SessionError
from .crypto import b64url_decode, b64url_encode
from .user import AuthonomyUser

__all__ = [
    "SessionRecord",
    "SessionState",
    "TokenSet",
    "identity_change",
    "is_expired",
    "needs_refresh",
    "new_record",
    "new_session_id",
    "store_ttl",
    "text_claim",
    "touch",
    "with_tokens",
]


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a session cookie stands for on this request.

    ``user`` is ``None`` when the cookie names no live session; ``set_cookie`` is a new
    cookie value to send (after a refresh or a touch), ``clear_cookie`` asks the adapter
    to delete the cookie.
    """

    user: AuthonomyUser | None
    set_cookie: str | None = None
    clear_cookie: bool = False

    @classmethod
    def of(cls, record: SessionRecord, old_cookie: str, new_cookie: str | None) -> SessionState:
        """The state of ``record``, read with ``old_cookie``; ``new_cookie`` (when it
        differs) is to be sent instead."""
        changed = new_cookie if new_cookie is not None and new_cookie != old_cookie else None
        return cls(AuthonomyUser.from_claims(record.claims), set_cookie=changed)


_FORMAT_VERSION = 1
#: Seconds an access token is assumed to live when the token answer omits ``expires_in``.
_DEFAULT_EXPIRES_IN = 3600


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Tokens from ``POST /auth/token`` or ``POST /auth/refresh``."""

    access_token: str
    refresh_token: str
    id_token: str | None
    expires_at: float
    """When the access token expires (Unix seconds)."""
    scope: str

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: float) -> TokenSet:
        """Build from a token answer's ``data``; raises :class:`SessionError` if malformed."""
        access_token = data.get("access_token")
        refresh_token = data.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise SessionError("token answer has no access_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise SessionError("token answer has no refresh_token")
        id_token = data.get("id_token")
        expires_in = data.get("expires_in", _DEFAULT_EXPIRES_IN)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
            raise SessionError("token answer has a non-numeric expires_in")
        scope = data.get("scope") or ""
        return cls(
            access_token=access_token,
            refresh_token=refresh_token,
            id_token=id_token if isinstance(id_token, str) else None,
            expires_at=now + float(expires_in),
            scope=scope if isinstance(scope, str) else "",
        )


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A signed-in browser session as a store keeps it."""

    id: str
    """Random 256-bit URL-safe id (see :func:`new_session_id`)."""
    tokens: TokenSet
    claims: Mapping[str, Any]
    """The verified access token's claims."""
    created_at: float
    """When the user signed in (Unix seconds); bounds the absolute lifetime."""
    last_seen: float
    """Last request that refreshed this value (updated at most every touch interval)."""
    iss: str | None = None
    """Issuer of the app that made the session when it is not the token's ``iss``."""
    aud: str | None = None
    """Audience of the app that made the session when it is not the token's ``aud``."""
    user_agent: str | None = None
    """The browser's ``User-Agent`` at sign-in (cut short), to tell devices apart."""
    ip_prefix: str | None = None
    """The network the sign-in came from (``203.0.113.0/24``), never the whole address."""

    @property
    def issuer(self) -> str:
        """The issuer of the app that made the session: another app's is refused."""
        return self.iss if self.iss is not None else _claim(self.claims, "iss")

    @property
    def audience(self) -> str:
        """The audience (application id) of the app that made the session."""
        return self.aud if self.aud is not None else _claim(self.claims, "aud")

    def to_bytes(self) -> bytes:
        """Compact JSON; the ID token is not kept."""
        fields: dict[str, Any] = {
            "v": _FORMAT_VERSION,
            "i": self.id,
            "a": self.tokens.access_token,
            "r": self.tokens.refresh_token,
            "e": self.tokens.expires_at,
            "s": self.tokens.scope,
            "t": self.created_at,
            "l": self.last_seen,
        }
        if _jwt_payload(self.tokens.access_token) != self.claims:
            fields["c"] = dict(self.claims)
        if self.iss is not None:
            fields["is"] = self.iss
        if self.aud is not None:
            fields["au"] = self.aud
        if self.user_agent is not None:
            fields["ua"] = self.user_agent
        if self.ip_prefix is not None:
            fields["ip"] = self.ip_prefix
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionRecord | None:
        """Inverse of :meth:`to_bytes`; ``None`` for garbage or an unknown format."""
        try:
            fields = json.loads(data)
            if fields["v"] != _FORMAT_VERSION:
                return None
            return _record_from_fields(fields)
        except (ValueError, TypeError, KeyError):
            return None


def _record_from_fields(fields: Mapping[str, Any]) -> SessionRecord | None:
    tokens = TokenSet(
        access_token=_text(fields, "a"),
        refresh_token=_text(fields, "r"),
        id_token=None,
        expires_at=float(fields["e"]),
        scope=_text(fields, "s"),
    )
    claims = fields["c"] if "c" in fields else _jwt_payload(tokens.access_token)
    if not isinstance(claims, dict):
        return None
    return SessionRecord(
        id=_text(fields, "i"),
        tokens=tokens,
        claims=claims,
        created_at=float(fields["t"]),
        last_seen=float(fields["l"]),
        iss=_text(fields, "is") if "is" in fields else None,
        aud=_text(fields, "au") if "au" in fields else None,
        user_agent=_text(fields, "ua") if "ua" in fields else None,
        ip_prefix=_text(fields, "ip") if "ip" in fields else None,
    )


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


def _text(fields: Mapping[str, Any], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise TypeError(f"session field {key!r} is not a string")
    return value


def _jwt_payload(token: str) -> dict[str, Any] | None:
    """The payload of a JWT without verifying it (it was verified before it was stored)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def new_session_id(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh session id: 32 random bytes, URL-safe base64 (43 characters)."""
    return b64url_encode(random_bytes(32))


def new_record(
    session_id: str,
    tokens: TokenSet,
    claims: Mapping[str, Any],
    now: float,
    *,
    iss: str | None = None,
    aud: str | None = None,
    device: tuple[str | None, str | None] = (None, None),
) -> SessionRecord:
    """The record of a session that starts now for the app ``iss``/``aud`` (the ID token
    is dropped). The verified token names its app already, so they are kept apart only
    when they differ from its claims: the record stays small. ``device`` is the
    browser's ``User-Agent`` and network prefix (see :mod:`.devices`)."""
    kept = dataclasses.replace(tokens, id_token=None)
    return SessionRecord(
        session_id,
        kept,
        dict(claims),
        created_at=now,
        last_seen=now,
        iss=None if iss == _claim(claims, "iss") else iss,
        aud=None if aud == _claim(claims, "aud") else aud,
        user_agent=device[0],
        ip_prefix=device[1],
    )


def is_expired(record: SessionRecord, now: float, idle_timeout: float, max_age: float) -> bool:
    """Whether the session has been idle too long or has outlived ``max_age`` since login."""
    return now - record.last_seen > idle_timeout or now - record.created_at > max_age


def needs_refresh(record: SessionRecord, now: float, margin: float) -> bool:
    """Whether the access token expires within ``margin`` seconds (or already has)."""
    return record.tokens.expires_at - now <= margin


def touch(record: SessionRecord, now: float, interval: float = 60) -> SessionRecord | None:
    """A record with ``last_seen = now``, or ``None`` if it was seen within ``interval``.

    Stores are written only when this returns a record, not on every request; the idle
    timeout is therefore exact to within ``interval`` seconds.
    """
    if now - record.last_seen < interval:
        return None
    return dataclasses.replace(record, last_seen=now)


def with_tokens(
    record: SessionRecord, tokens: TokenSet, claims: Mapping[str, Any], now: float
) -> SessionRecord:
    """The record after a refresh: new tokens and claims; the login time is kept."""
    kept = dataclasses.replace(tokens, id_token=None)
    return dataclasses.replace(record, tokens=kept, claims=dict(claims), last_seen=now)


def store_ttl(record: SessionRecord, now: float, idle_timeout: float, max_age: float) -> int:
    """Seconds a store should keep the record: until it would expire, at least 1."""
    left = min(record.last_seen + idle_timeout, record.created_at + max_age) - now
    return max(1, int(left) + 1)


#: Claims a refresh must not change: who the user is, where, and through which customer.
IDENTITY_CLAIMS = ("sub", "iss", "customer_id")


def identity_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The first identity claim that differs between a session's token and its refresh."""
    return next((name for name in IDENTITY_CLAIMS if old.get(name) != new.get(name)), None)


def text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    """The claim ``name`` when it is text, else ``None``."""
    value = claims.get(name)
    return value if isinstance(value, str) else None
