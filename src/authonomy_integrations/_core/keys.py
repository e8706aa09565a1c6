"""Signing keys: parsing a JWK set and deciding when to fetch it again.

:class:`KeySet` turns an RFC 7517 document into public keys. :class:`KeySetCache` is the
state of one issuer's key set; it does no I/O. The caller asks :meth:`KeySetCache.should_fetch`,
fetches ``jwks_uri`` itself, and reports the outcome with :meth:`KeySetCache.fetched` or
:meth:`KeySetCache.fetch_failed`. A failed fetch never drops keys that worked.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePublicKey,
    EllipticCurvePublicNumbers,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

__all__ = [
    "KeySet",
    "KeySetCache",
    "VerificationKey",
    "b64url_decode",
    "parse_max_age",
]

#: Algorithms a key of each type may verify; a JWK's own ``alg`` narrows this to one.
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_P256_ALGORITHMS = frozenset({"ES256"})

# Keys below this size are breakable; an issuer publishing one is misconfigured.
_MIN_RSA_BITS = 2048

_B64URL = re.compile(r"[A-Za-z0-9_-]*")

# Bounds on the Cache-Control max-age we honour: at most a day so rotation is seen,
# at least the cooldown so `max-age=0` cannot turn every request into a fetch.
_MAX_MAX_AGE = 86_400


def b64url_decode(value: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 §2), rejecting any other alphabet.

    Raises :class:`ValueError` on characters outside the alphabet or an impossible length.
    """
    if not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise ValueError("invalid base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except binascii.Error as exc:
        raise ValueError("invalid base64url") from exc


PublicKey = RSAPublicKey | EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One public key from the issuer's key set.

    ``algorithms`` are the JWS algorithms this key may verify: its type decides them,
    and the JWK's ``alg`` member, when present, narrows them to that one.
    """

    kid: str
    key: PublicKey
    algorithms: frozenset[str]

    @property
    def alg(self) -> str | None:
        """The key's single algorithm when it declares one (or allows only one)."""
        return next(iter(self.algorithms)) if len(self.algorithms) == 1 else None

    def allows(self, alg: str) -> bool:
        """Whether a token signed with ``alg`` may be verified with this key."""
        return alg in self.algorithms


def _uint(jwk: Mapping[str, Any], member: str) -> int:
    value = jwk.get(member)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing {member}")
    return int.from_bytes(b64url_decode(value), "big")


def _rsa_key(jwk: Mapping[str, Any]) -> tuple[PublicKey, frozenset[str]]:
    key = RSAPublicNumbers(_uint(jwk, "e"), _uint(jwk, "n")).public_key()
    if key.key_size < _MIN_RSA_BITS:
        raise ValueError("RSA key too small")
    return key, _RSA_ALGORITHMS


def _ec_key(jwk: Mapping[str, Any]) -> tuple[PublicKey, frozenset[str]]:
    if jwk.get("crv") != "P-256":
        raise ValueError("unsupported curve")
    numbers = EllipticCurvePublicNumbers(_uint(jwk, "x"), _uint(jwk, "y"), SECP256R1())
    return numbers.public_key(), _EC_P256_ALGORITHMS


_KEY_PARSERS = {"RSA": _rsa_key, "EC": _ec_key}


def _parse_jwk(jwk: Any) -> VerificationKey:
    """Build one key; raises :class:`ValueError` for anything this kit will not use."""
    if not isinstance(jwk, Mapping):
        raise ValueError("not an object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("missing kid")
    if jwk.get("use", "sig") != "sig":
        raise ValueError("not a signing key")
    kty = jwk.get("kty")
    parser = _KEY_PARSERS.get(kty) if isinstance(kty, str) else None
    if parser is None:
        raise ValueError("unsupported key type")
    key, algorithms = parser(jwk)
    declared = jwk.get("alg")
    if declared is not None:
        if declared not in algorithms:
            raise ValueError("alg does not fit the key type")
        algorithms = frozenset({declared})
    return VerificationKey(kid=kid, key=key, algorithms=algorithms)


@dataclass(frozen=True, slots=True)
class KeySet:
    """The usable signing keys of a JWK set, by ``kid``."""

    keys: Mapping[str, VerificationKey]

    @classmethod
    def from_jwks(cls, doc: Mapping[str, Any]) -> KeySet:
        """Parse an RFC 7517 JWK set.

        RSA (2048 bits or more) and EC P-256 keys are kept. Keys that are malformed, lack
        a ``kid``, or are not for signatures are skipped rather than failing the whole set,
        so one odd key cannot lock every user out. Private members are never read.
        """
        entries = doc.get("keys") if isinstance(doc, Mapping) else None
        keys: dict[str, VerificationKey] = {}
        for jwk in entries if isinstance(entries, list) else ():
            try:
                parsed = _parse_jwk(jwk)
            except ValueError:
                continue
            keys.setdefault(parsed.kid, parsed)
        return cls(keys=keys)

    def get(self, kid: str) -> VerificationKey | None:
        """The key with this ``kid``, or ``None``."""
        return self.keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self.keys

    def __len__(self) -> int:
        return len(self.keys)


def parse_max_age(cache_control: str | None) -> int | None:
    """The freshness lifetime a ``Cache-Control`` header grants, in seconds.

    ``no-store`` and ``no-cache`` give 0; a missing or malformed ``max-age`` gives ``None``.
    """
    if not cache_control:
        return None
    max_age: int | None = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age":
            value = value.strip().strip('"')
            max_age = int(value) if value.isdigit() else None
    return max_age


class KeySetCache:
    """When to fetch an issuer's key set, and the last good copy of it.

    Fetches happen when there are no keys yet, when the keys are past their max-age, or
    when a token names an unknown ``kid``. That last kind is the one anybody can cause
    (a forged ``kid`` costs nothing), so it is rationed on its own: at most one fetch
    for unknown ``kid`` values per ``cooldown`` (and never more often than
    ``negative_ttl``, even with ``cooldown`` 0). Fetches at start-up or at expiry do not
    use up that allowance, so a key that signs right after a fetch (an emergency
    rotation, published late) is found by the very next token that names it. A failed
    fetch starts the cooldown and keeps the last good keys, which go on verifying
    tokens until a fetch succeeds.

    Not locked: callers that fetch from several threads or tasks should let one fetch at
    a time, and call :meth:`begin_fetch` once they hold the lock (the others wait for
    it and then call :meth:`lookup`).
    """

    def __init__(
        self,
        *,
        cooldown: float = 30.0,
        negative_ttl: float = 5.0,
        default_max_age: int = 300,
    ) -> None:
        self.cooldown = cooldown
        self.negative_ttl = negative_ttl
        self.default_max_age = default_max_age
        self._keys: KeySet | None = None
        self._expires_at = 0.0
        self._last_attempt: float | None = None
        self._last_unknown_kid_fetch: float | None = None
        self._last_failed = False

    @property
    def keys(self) -> KeySet | None:
        """The last good key set, or ``None`` before the first successful fetch."""
        return self._keys

    def lookup(self, kid: str, now: float) -> VerificationKey | None:
        """The key for ``kid`` from the last good set, even when that set is stale."""
        del now  # stale keys still verify: rotation keeps old keys published
        return self._keys.get(kid) if self._keys is not None else None

    def should_fetch(self, kid: str | None, now: float) -> bool:
        """Whether to fetch the key set before verifying a token signed by ``kid``."""
        return self._reason(kid, now) is not None

    def begin_fetch(self, kid: str | None, now: float) -> bool:
        """:meth:`should_fetch`, and when the fetch is for an unknown ``kid``, count it
        against the allowance. Call it right before fetching, holding the fetch lock."""
        reason = self._reason(kid, now)
        if reason == "unknown kid":
            self._last_unknown_kid_fetch = now
        return reason is not None

    def _reason(self, kid: str | None, now: float) -> str | None:
        if self._last_failed and self._within(self._last_attempt, self.cooldown, now):
            return None
        if self._keys is None:
            return "start"
        if now >= self._expires_at:
            return "expired"
        if kid is None or kid in self._keys:
            return None
        if self._within(self._last_unknown_kid_fetch, max(self.cooldown, self.negative_ttl), now):
            return None
        return "unknown kid"

    def fetched(self, doc: Mapping[str, Any], cache_control: str | None, now: float) -> None:
        """Record a fetched JWK set; a set with no usable key counts as a failure."""
        keys = KeySet.from_jwks(doc)
        if not keys:
            self.fetch_failed(now)
            return
        self._keys = keys
        self._expires_at = now + self._max_age(cache_control)
        self._last_attempt = now
        self._last_failed = False

    def fetch_failed(self, now: float) -> None:
        """Record a failed fetch: keep the last good keys and start the cooldown."""
        self._last_attempt = now
        self._last_failed = True

    def _max_age(self, cache_control: str | None) -> float:
        max_age = parse_max_age(cache_control)
        if max_age is None:
            max_age = self.default_max_age
        return float(min(max(max_age, self.cooldown), _MAX_MAX_AGE))

    @staticmethod
    def _within(since: float | None, period: float, now: float) -> bool:
        return since is not None and now - since < period
