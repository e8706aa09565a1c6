"""Standard Webhooks signatures: secrets, headers, timestamps and HMACs.

Pure functions and values: no I/O, no clock (``now`` is always a parameter).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from ..errors import ConfigurationError, WebhookVerificationError

__all__ = [
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Headers",
    "Secret",
    "SignedHeaders",
    "SigningKey",
    "check_timestamp",
    "decode_secret",
    "decode_signatures",
    "header_pairs",
    "read_signed_headers",
    "sign",
]

SECRET_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
_VERSION = "v1"
_WANTED = frozenset({ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER})
# Ids become replay-store keys; a bound keeps a sender from filling the store with huge keys.
_MAX_ID_LENGTH = 256
# Far beyond any real Unix time in seconds; keeps int() away from huge inputs.
_MAX_TIMESTAMP_DIGITS = 15

Secret: TypeAlias = str | bytes
"""A signing secret: ``whsec_<base64>``, any other string (its UTF-8 bytes), or raw bytes."""

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]
"""Request headers in any case: a mapping, header objects, or a list of (name, value) pairs."""


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The three Standard Webhooks headers of a delivery, syntactically checked."""

    webhook_id: str
    timestamp: int
    signature: str


def decode_secret(secret: Secret) -> bytes:
    """The HMAC key of ``secret``; a malformed or empty secret is a configuration error."""
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(SECRET_PREFIX):
        key = _decode_whsec(secret[len(SECRET_PREFIX) :])
    else:
        key = secret.encode("utf-8")
    if not key:
        raise ConfigurationError("webhook_secret", "must not be empty")
    return key


def _decode_whsec(encoded: str) -> bytes:
    # Secrets are shown both with and without base64 padding; accept both.
    bare = encoded.rstrip("=")
    padded = bare + "=" * (-len(bare) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            "webhook_secret", f"the part after {SECRET_PREFIX!r} is not valid base64"
        ) from None


class SigningKey:
    """An HMAC-SHA256 key prepared once, so each delivery only hashes its own bytes."""

    __slots__ = ("_mac",)

    def __init__(self, secret: Secret) -> None:
        self._mac = hmac.new(decode_secret(secret), digestmod=hashlib.sha256)

    def digest(self, webhook_id: str, timestamp: int, body: bytes) -> bytes:
        """HMAC of ``{id}.{timestamp}.{body}``, fed in parts so the body is never copied."""
        mac = self._mac.copy()
        mac.update(f"{webhook_id}.{timestamp}.".encode())
        mac.update(body)
        return mac.digest()

    def matches(
        self, webhook_id: str, timestamp: int, body: bytes, candidates: Sequence[bytes]
    ) -> bool:
        """Whether any candidate signature is this key's, compared in constant time."""
        expected = self.digest(webhook_id, timestamp, body)
        return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def header_pairs(headers: Headers) -> Iterable[tuple[str | bytes, str | bytes]]:
    """(name, value) pairs of any supported headers object."""
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def _text(value: str | bytes) -> str:
    # HTTP header bytes are Latin-1 by definition; frameworks decode them the same way.
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _collect(headers: Headers) -> dict[str, str]:
    try:
        return _collect_pairs(header_pairs(headers))
    except (TypeError, ValueError, AttributeError):
        raise WebhookVerificationError("malformed headers") from None


def _collect_pairs(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = _text(raw_name).lower()
        if name not in _WANTED:
            continue
        value = _text(raw_value)
        if name in found:
            if name != SIGNATURE_HEADER:
                raise WebhookVerificationError(f"repeated {name} header")
            value = f"{found[name]} {value}"
        found[name] = value
    return found


def read_signed_headers(headers: Headers) -> SignedHeaders:
    """Find and check the three webhook headers, whatever their case."""
    found = _collect(headers)
    for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
        if not found.get(name):
            raise WebhookVerificationError(f"missing {name} header")
    webhook_id = found[ID_HEADER]
    if len(webhook_id) > _MAX_ID_LENGTH:
        raise WebhookVerificationError(f"{ID_HEADER} header is too long")
    if not (webhook_id.isascii() and webhook_id.isprintable()):
        raise WebhookVerificationError(f"{ID_HEADER} header is malformed")
    return SignedHeaders(
        webhook_id, _parse_timestamp(found[TIMESTAMP_HEADER]), found[SIGNATURE_HEADER]
    )


def _parse_timestamp(value: str) -> int:
    # int() would also take " 12", "+12", "1_2" and non-ASCII digits; the header is plain digits.
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} header is not an integer")
    return int(value)


def check_timestamp(timestamp: int, now: float, tolerance: float) -> None:
    """Refuse a timestamp more than ``tolerance`` seconds away from ``now``, either way."""
    if timestamp < now - tolerance:
        raise WebhookVerificationError("timestamp too old")
    if timestamp > now + tolerance:
        raise WebhookVerificationError("timestamp too new")


def decode_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header; other versions skipped."""
    candidates: list[bytes] = []
    saw_v1 = False
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != _VERSION:
            continue
        saw_v1 = True
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not saw_v1:
        raise WebhookVerificationError("no v1 signature")
    if not candidates:
        raise WebhookVerificationError("malformed signature")
    return candidates


def _unix_seconds(timestamp: int | float | datetime) -> int:
    if isinstance(timestamp, datetime):
        return int(timestamp.timestamp())
    return int(timestamp)


def sign(
    secret: Secret | Sequence[Secret],
    event_id: str,
    timestamp: int | float | datetime,
    body: bytes | str,
) -> dict[str, str]:
    """The three headers that sign ``body``, as Authonomy sends them.

    With several secrets (a rotation), the signature header carries one entry per secret.
    """
    secrets = [secret] if isinstance(secret, str | bytes) else list(secret)
    seconds = _unix_seconds(timestamp)
    raw = body.encode() if isinstance(body, str) else body
    entries = (
        f"{_VERSION},{base64.b64encode(SigningKey(item).digest(event_id, seconds, raw)).decode()}"
        for item in secrets
    )
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(seconds),
        SIGNATURE_HEADER: " ".join(entries),
    }
