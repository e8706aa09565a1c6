"""Verifying Authonomy's signed tokens (JWS compact JWTs, RFC 7515/7519/8725/9068).

Everything an attacker controls is checked against what the application expects; the
token never chooses its own rules:

- the algorithm must be one of :attr:`VerifyOptions.algorithms` *and* fit the key found
  by ``kid``, so ``none``, HMAC and key-type confusion are refused;
- keys come only from the caller's ``key_lookup``; ``jwk``, ``jku``, ``x5u`` and ``x5c``
  header members are never read;
- time claims are compared with the caller's ``now``, not the wall clock.

Every failure raises :class:`~authonomy_integrations._errors.TokenError` (or a subclass).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import Algorithm, get_default_algorithms

from .._errors import ConfigurationError, KeyNotFoundError, TokenError, TokenExpiredError
from .keys import VerificationKey, b64url_decode
from .strict_json import STRICT_JSON

__all__ = ["KeyLookup", "VerifyOptions", "read_header", "verify"]

#: Finds the signing key for a ``kid``; ``None`` when the issuer has no such key.
KeyLookup = Callable[[str], VerificationKey | None]

# Only asymmetric algorithms: a verifier holding a public key must never accept a MAC.
_SUPPORTED = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256")
_ALGORITHMS: dict[str, Algorithm] = {
    name: algorithm for name, algorithm in get_default_algorithms().items() if name in _SUPPORTED
}


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What a token must satisfy to be accepted.

    ``typ`` is the expected ``typ`` header: ``"at+jwt"`` for access tokens, ``"JWT"`` for
    ID tokens. Both carry the same ``aud``, so ``typ`` is what stops an ID token from
    being replayed as an access token.
    """

    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway: float = 30.0
    max_token_bytes: int = 8192
    typ: str = "at+jwt"

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ConfigurationError("issuer", "must not be empty")
        if not self.audience:
            raise ConfigurationError("audience", "must not be empty")
        unsupported = sorted(set(self.algorithms) - set(_SUPPORTED))
        if unsupported or not self.algorithms:
            raise ConfigurationError(
                "algorithms", f"must be a non-empty subset of {', '.join(_SUPPORTED)}"
            )
        if self.leeway < 0:
            raise ConfigurationError("leeway", "must not be negative")

    @classmethod
    def for_access_token(cls, issuer: str, audience: str, *, leeway: float = 30.0) -> VerifyOptions:
        """Options for Authonomy access tokens (``typ: at+jwt``)."""
        return cls(issuer=issuer, audience=audience, leeway=leeway, typ="at+jwt")

    @classmethod
    def for_id_token(cls, issuer: str, audience: str, *, leeway: float = 30.0) -> VerifyOptions:
        """Options for Authonomy ID tokens (``typ: JWT``)."""
        return cls(issuer=issuer, audience=audience, leeway=leeway, typ="JWT")


def _split(token: str, max_bytes: int) -> list[str]:
    # Size first: nothing else about an oversize token is worth computing.
    if not isinstance(token, str) or len(token) > max_bytes:
        raise TokenError("token too large" if isinstance(token, str) else "token is not a string")
    parts = token.split(".")
    if not token.isascii() or len(parts) != 3 or not all(parts):
        raise TokenError("malformed token")
    return parts


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = STRICT_JSON.decode(b64url_decode(segment).decode("utf-8"))
    except (ValueError, RecursionError):
        raise TokenError(f"malformed {what}") from None
    if not isinstance(value, dict):
        raise TokenError(f"malformed {what}")
    return value


def read_header(token: str, max_bytes: int = 8192) -> dict[str, Any]:
    """The token's JOSE header, unverified; for choosing a key, never for trusting.

    Rejects tokens over ``max_bytes`` before parsing anything, tokens that are not three
    non-empty base64url parts, and headers that are not a JSON object.
    """
    return _json_object(_split(token, max_bytes)[0], "header")


def _normalise_typ(value: str) -> str:
    # RFC 7515 §4.1.9: "application/" may be omitted; media types are case-insensitive.
    value = value.lower()
    return value.removeprefix("application/")


def _check_header(header: dict[str, Any], options: VerifyOptions) -> tuple[str, str]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in options.algorithms:
        raise TokenError("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenError("missing kid")
    if "crit" in header:
        # This verifier implements no header extensions, so any critical one fails.
        raise TokenError("unsupported critical header", kid=kid)
    typ = header.get("typ")
    if not isinstance(typ, str) or _normalise_typ(typ) != _normalise_typ(options.typ):
        raise TokenError("wrong token type", kid=kid)
    return alg, kid


def _check_signature(parts: list[str], alg: str, kid: str, key_lookup: KeyLookup) -> None:
    key = key_lookup(kid)
    if key is None:
        raise KeyNotFoundError("unknown signing key", kid=kid)
    if not key.allows(alg):
        raise TokenError("algorithm does not match the key", kid=kid)
    try:
        signature = b64url_decode(parts[2])
        valid = _ALGORITHMS[alg].verify(f"{parts[0]}.{parts[1]}".encode(), key.key, signature)
    except ValueError:
        valid = False
    if not valid:
        raise TokenError("invalid signature", kid=kid)


def _number(claims: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise TokenError(f"missing {name}", claim=name)
    # bool is an int in Python; `"exp": true` is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"invalid {name}", claim=name)
    return float(value)


def _check_times(claims: dict[str, Any], leeway: float, now: float) -> None:
    exp = _number(claims, "exp", required=True)
    if exp is not None and now >= exp + leeway:
        raise TokenExpiredError("token expired", claim="exp")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and now + leeway < nbf:
        raise TokenError("token not yet valid", claim="nbf")
    iat = _number(claims, "iat", required=False)
    if iat is not None and iat > now + leeway:
        raise TokenError("token issued in the future", claim="iat")


def _check_audience(claims: dict[str, Any], audience: str) -> None:
    aud = claims.get("aud")
    if aud is None or aud == []:
        raise TokenError("missing aud", claim="aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or audience not in audiences:
        raise TokenError("wrong audience", claim="aud")


def _check_identity(claims: dict[str, Any], options: VerifyOptions) -> None:
    iss = claims.get("iss")
    if iss is None:
        raise TokenError("missing iss", claim="iss")
    if iss != options.issuer:
        raise TokenError("wrong issuer", claim="iss")
    _check_audience(claims, options.audience)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenError("missing sub", claim="sub")


def _check_nonce(claims: dict[str, Any], nonce: str) -> None:
    value = claims.get("nonce")
    if not isinstance(value, str) or not hmac.compare_digest(value.encode(), nonce.encode()):
        raise TokenError("wrong nonce", claim="nonce")


def verify(
    token: str,
    key_lookup: KeyLookup,
    options: VerifyOptions,
    now: float,
    *,
    nonce: str | None = None,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims.

    ``key_lookup`` maps the header's ``kid`` to a key from the issuer's key set; it is
    the only source of keys. ``now`` is the current Unix time. ``nonce``, when given,
    must equal the token's ``nonce`` claim (ID tokens).

    Raises :class:`~authonomy_integrations._errors.KeyNotFoundError` when ``key_lookup``
    knows no such ``kid``, :class:`~authonomy_integrations._errors.TokenExpiredError` when
    ``exp`` has passed (beyond the leeway), and
    :class:`~authonomy_integrations._errors.TokenError` for every other failure.
    """
    parts = _split(token, options.max_token_bytes)
    alg, kid = _check_header(_json_object(parts[0], "header"), options)
    _check_signature(parts, alg, kid, key_lookup)
    claims = _json_object(parts[1], "payload")
    _check_identity(claims, options)
    _check_times(claims, options.leeway, now)
    if nonce is not None:
        _check_nonce(claims, nonce)
    return claims
