"""Authenticated encryption of small values (cookies) under rotating secrets.

A sealed token is URL-safe base64 (no padding) of::

    version (1 byte) | key id (1 byte) | nonce (12 bytes) | AES-256-GCM ciphertext + tag

Each secret yields one key per *purpose* through HKDF-SHA256, so one configured session
secret can serve login cookies and session cookies without a token made for one use
opening under the other. The key id is derived from the key itself: it stays the same
wherever the secret sits in the rotation list and lets :meth:`SecretBox.open` skip keys
that cannot match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SecretBox", "b64url_decode", "b64url_encode"]

_VERSION = 1
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 2
_SALT = b"authonomy-integrations/secret-box/v1"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
#: Sealed values are cookies; anything much longer is garbage and not worth decoding.
_MAX_TOKEN_CHARS = 64 * 1024


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url_encode`; raises ``ValueError`` on anything else."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not URL-safe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not URL-safe base64") from exc


@dataclass(frozen=True, slots=True)
class _Key:
    kid: int
    aead: AESGCM


def _derive(secret: str, purpose: str) -> _Key:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode("utf-8")
    ).derive(secret.encode("utf-8"))
    kid = hashlib.sha256(b"kid:" + key).digest()[0]
    return _Key(kid, AESGCM(key))


class SecretBox:
    """Seals and opens byte strings with AES-256-GCM under one or more secrets.

    ``secrets`` are newest first: the first one seals, every one opens, so a secret can
    be rotated without logging everybody out. ``purpose`` separates uses of the same
    secret (``"session"``, ``"login"``). ``associated_data`` given to both :meth:`seal`
    and :meth:`open` (a cookie name, say) is authenticated but not stored.
    """

    def __init__(
        self,
        secrets: Sequence[str],
        purpose: str,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if isinstance(secrets, str):
            secrets = (secrets,)
        if not secrets or not all(secrets):
            raise ValueError("SecretBox needs at least one non-empty secret")
        self.purpose = purpose
        self._keys = tuple(_derive(secret, purpose) for secret in secrets)
        self._random_bytes = random_bytes

    def seal(self, data: bytes, associated_data: bytes = b"") -> str:
        """Encrypt and authenticate ``data`` with the newest secret."""
        key = self._keys[0]
        header = bytes((_VERSION, key.kid))
        nonce = self._random_bytes(_NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, data, header + associated_data)
        return b64url_encode(header + nonce + sealed)

    def open(self, token: str, associated_data: bytes = b"") -> bytes | None:
        """The data sealed in ``token``, or ``None`` if it is garbage or was tampered with."""
        raw = _decode_token(token)
        if raw is None:
            return None
        body = _HEADER_BYTES + _NONCE_BYTES
        header, nonce, sealed = raw[:_HEADER_BYTES], raw[_HEADER_BYTES:body], raw[body:]
        for key in self._keys:
            if key.kid != header[1]:
                continue
            try:
                return key.aead.decrypt(nonce, sealed, header + associated_data)
            except InvalidTag:
                continue  # a one-byte key id can collide; the next key may fit
        return None


def _decode_token(token: str) -> bytes | None:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        raw = b64url_decode(token)
    except ValueError:
        return None
    if len(raw) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES or raw[0] != _VERSION:
        return None
    return raw
