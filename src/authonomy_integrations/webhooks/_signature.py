"""Standard Webhooks signatures: secrets, headers, timestamps and HMACs.

Pure functions and values: no I/O, no clock (``now`` is always a parameter).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple, TypeAlias

from .._errors import ConfigurationError, WebhookVerificationError

__all__ = [
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Headers",
    "Secret",
    "SignedHeaders",
    "WebhookKey",
    "check_timestamp",
    "decode_secret",
    "decode_signatures",
    "header_pairs",
    "read_signed_headers",
    "sign",
    "signed_by_any",
    "signed_prefix",
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


class SignedHeaders(NamedTuple):
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


_BLOCK_SIZE = 64  # SHA-256's block size, as RFC 2104 needs it
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


class WebhookKey:
    """An HMAC-SHA256 key prepared once, so each delivery only hashes its own bytes.

    The keyed inner and outer SHA-256 states of RFC 2104 are computed here; a delivery
    copies them, which costs far less per call than ``hmac.new`` (or ``HMAC.copy()``
    and its Python wrappers) and never concatenates the body with its prefix.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: Secret) -> None:
        key = decode_secret(secret)
        if len(key) > _BLOCK_SIZE:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(key.translate(_INNER_PAD))
        self._outer = hashlib.sha256(key.translate(_OUTER_PAD))

    def digest(self, prefix: bytes, body: bytes) -> bytes:
        """HMAC-SHA256 of ``prefix + body``."""
        inner = self._inner.copy()
        inner.update(prefix)
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def signed_prefix(webhook_id: str, timestamp: int) -> bytes:
    """What precedes the body in the signed content: ``{id}.{timestamp}.``."""
    return f"{webhook_id}.{timestamp}.".encode()


def signed_by_any(
    keys: Sequence[WebhookKey], prefix: bytes, body: bytes, candidates: Sequence[bytes]
) -> bool:
    """Whether a candidate signature was made with one of ``keys``, compared in constant time."""
    for key in keys:
        expected = key.digest(prefix, body)
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate):
                return True
    return False


def header_pairs(headers: Headers) -> Iterable[tuple[str | bytes, str | bytes]]:
    """(name, value) pairs of any supported headers object."""
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def _text(value: str | bytes) -> str:
    # HTTP header bytes are Latin-1 by definition; frameworks decode them the same way.
    return value.decode("latin-1") if isinstance(value, bytes) else value


_Found: TypeAlias = tuple[str | None, str | None, str | None]


def _collect(headers: Headers) -> _Found:
    # Fast path for a plain dict with lower-case names (what most callers and tools pass);
    # anything else is scanned pair by pair.
    if type(headers) is dict:
        webhook_id = headers.get(ID_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if type(webhook_id) is str and type(timestamp) is str and type(signature) is str:
            return webhook_id, timestamp, signature
    try:
        pairs = _collect_pairs(header_pairs(headers))
    except (TypeError, ValueError, AttributeError):
        raise WebhookVerificationError("malformed headers") from None
    return pairs.get(ID_HEADER), pairs.get(TIMESTAMP_HEADER), pairs.get(SIGNATURE_HEADER)


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
    webhook_id, timestamp, signature = _collect(headers)
    if not webhook_id:
        raise WebhookVerificationError(f"missing {ID_HEADER} header")
    if not timestamp:
        raise WebhookVerificationError(f"missing {TIMESTAMP_HEADER} header")
    if not signature:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    if len(webhook_id) > _MAX_ID_LENGTH:
        raise WebhookVerificationError(f"{ID_HEADER} header is too long")
    if not (webhook_id.isascii() and webhook_id.isprintable()):
        raise WebhookVerificationError(f"{ID_HEADER} header is malformed")
    # int() would also take " 12", "+12", "1_2" and non-ASCII digits; the header is plain digits.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} header is not an integer")
    return SignedHeaders(webhook_id, int(timestamp), signature)


def check_timestamp(timestamp: int, now: float, tolerance: float) -> None:
    """Refuse a timestamp more than ``tolerance`` seconds away from ``now``, either way."""
    if timestamp < now - tolerance:
        raise WebhookVerificationError("timestamp too old")
    if timestamp > now + tolerance:
        raise WebhookVerificationError("timestamp too new")


def decode_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header; other versions skipped."""
    if header.startswith("v1,") and " " not in header:
        # The usual case, a single v1 signature, without the general loop.
        try:
            return [binascii.a2b_base64(header[3:], strict_mode=True)]
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("malformed signature") from None
    candidates: list[bytes] = []
    saw_v1 = False
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != _VERSION:
            continue
        saw_v1 = True
        try:
            candidates.append(binascii.a2b_base64(encoded, strict_mode=True))
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
    prefix = signed_prefix(event_id, seconds)
    entries = (
        f"{_VERSION},{base64.b64encode(WebhookKey(item).digest(prefix, raw)).decode()}"
        for item in secrets
    )
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(seconds),
        SIGNATURE_HEADER: " ".join(entries),
    }
