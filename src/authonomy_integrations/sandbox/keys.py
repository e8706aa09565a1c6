"""Signing keys: the sandbox signs its own tokens and publishes the public halves."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = ["ALGORITHMS", "KeyRing", "SigningKey"]

ALGORITHMS = ("RS256", "ES256")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SigningKey:
    """A private key and the ``kid`` its tokens carry."""

    kid: str
    algorithm: str
    private_key: PrivateKey

    def public_jwk(self) -> dict[str, Any]:
        """The public key as an RFC 7517 JWK."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _generate(algorithm: str) -> SigningKey:
    private_key: PrivateKey
    if algorithm == "RS256":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private_key = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(f"key_{secrets.token_hex(8)}", algorithm, private_key)


class KeyRing:
    """Published keys, newest last; the newest signs."""

    def __init__(self, algorithm: str = "RS256") -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.algorithm = algorithm
        self._lock = threading.Lock()
        self._keys = [_generate(algorithm)]

    @property
    def current_kid(self) -> str:
        """The ``kid`` new tokens are signed with."""
        with self._lock:
            return self._keys[-1].kid

    def rotate(self) -> str:
        """Publish a new key and sign with it from now on; old keys stay published."""
        key = _generate(self.algorithm)
        with self._lock:
            self._keys.append(key)
        return key.kid

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set served at ``/.well-known/jwks.json``."""
        with self._lock:
            keys = list(self._keys)
        return {"keys": [key.public_jwk() for key in keys]}

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        """A compact JWS of ``claims`` with the current key."""
        with self._lock:
            key = self._keys[-1]
        headers = {"kid": key.kid, "typ": typ}
        return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers=headers)
