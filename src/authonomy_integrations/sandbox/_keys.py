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
    """Published keys, oldest first. One of them signs; a key published ahead of its
    use (the contract's rotation: the new ``kid`` appears before it signs) follows it."""

    def __init__(self, algorithm: str = "RS256") -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.algorithm = algorithm
        self._lock = threading.Lock()
        self._active = _generate(algorithm)
        self._keys = [self._active]

    @property
    def current_kid(self) -> str:
        """The ``kid`` new tokens are signed with."""
        with self._lock:
            return self._active.kid

    def publish_next(self) -> str:
        """Publish a new key without signing with it yet; :meth:`rotate` switches to it."""
        key = _generate(self.algorithm)
        with self._lock:
            self._keys.append(key)
        return key.kid

    def rotate(self) -> str:
        """Sign with the next published key from now on, publishing a new one if none
        waits; old keys stay published so their tokens keep verifying."""
        with self._lock:
            waiting = self._keys[self._keys.index(self._active) + 1 :]
        kid = waiting[0].kid if waiting else self.publish_next()
        with self._lock:
            self._active = next(key for key in self._keys if key.kid == kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set served at ``/.well-known/jwks.json``."""
        with self._lock:
            keys = list(self._keys)
        return {"keys": [key.public_jwk() for key in keys]}

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        """A compact JWS of ``claims`` with the current key."""
        with self._lock:
            key = self._active
        headers = {"kid": key.kid, "typ": typ}
        return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers=headers)
