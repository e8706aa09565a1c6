"""Signing keys and tokens for tests: real RS256/ES256 signatures made with pyjwt.

    factory = TokenFactory()
    token = factory.access_token(groups=["admins"], amr=None)   # None removes a claim
    claims = verify(token, factory.key_set().get, factory.access_options(), NOW)

``forge`` builds tokens no honest signer would (``alg: none``, HMAC with a public key,
any header), for tests of what the verifier refuses.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from authonomy_integrations._core.keys import KeySet
from authonomy_integrations._core.tokens import VerifyOptions

ISSUER = "https://auth.test.example"
AUDIENCE = "app_test"
NOW = 1_700_000_000


@functools.cache
def _rsa_private_key(seed: str, bits: int) -> rsa.RSAPrivateKey:
    del seed  # distinct cache entries, distinct keys
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def _ec_private_key(seed: str) -> ec.EllipticCurvePrivateKey:
    del seed
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class TestKey:
    """A private key, its ``kid`` and the algorithm it signs with."""

    __test__ = False  # not a pytest test class

    kid: str
    alg: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self, **members: Any) -> dict[str, Any]:
        """The public JWK, with ``kid``, ``use: sig`` and ``alg``; ``members`` override."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            doc = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            doc = ECAlgorithm.to_jwk(public, as_dict=True)
        doc.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        doc.update(members)
        return {name: value for name, value in doc.items() if value is not None}


def rsa_key(kid: str = "rsa-1", *, alg: str = "RS256", bits: int = 2048) -> TestKey:
    """An RSA signing key (generated once per ``kid`` and size, then reused)."""
    return TestKey(kid=kid, alg=alg, private_key=_rsa_private_key(kid, bits))


def ec_key(kid: str = "ec-1") -> TestKey:
    """An EC P-256 signing key for ES256."""
    return TestKey(kid=kid, alg="ES256", private_key=_ec_private_key(kid))


def b64url(data: bytes | str) -> str:
    """Unpadded base64url, as JWS uses."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with exactly this header, these claims and this signature."""
    parts = [b64url(json.dumps(header)), b64url(json.dumps(claims))]
    return ".".join([*parts, b64url(signature)])


def signing_input(token: str) -> bytes:
    """The bytes a JWS signature covers: ``header.payload``."""
    return token.rsplit(".", 1)[0].encode()


class TokenFactory:
    """Issues tokens the way Authonomy does, for one issuer and audience."""

    def __init__(
        self,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        keys: tuple[TestKey, ...] | None = None,
        now: int = NOW,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys if keys is not None else (rsa_key(), ec_key())
        self.now = now

    def jwks(self) -> dict[str, Any]:
        """The issuer's public JWK set."""
        return {"keys": [key.jwk() for key in self.keys]}

    def key_set(self) -> KeySet:
        """The parsed key set; ``key_set().get`` is a ready ``key_lookup``."""
        return KeySet.from_jwks(self.jwks())

    def access_options(self, **changes: Any) -> VerifyOptions:
        """Verify options matching this factory's access tokens."""
        return VerifyOptions(**{"issuer": self.issuer, "audience": self.audience, **changes})

    def id_options(self, **changes: Any) -> VerifyOptions:
        """Verify options matching this factory's ID tokens."""
        return self.access_options(typ="JWT", **changes)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Access-token claims of a signed-in user; an override of ``None`` removes it."""
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "user_alice",
            "customer_id": "acme-corp",
            "email": "alice@acme-corp.example",
            "name": "Alice Example",
            "groups": ["engineering"],
            "scope": "openid profile email",
            "amr": ["pwd"],
            "auth_time": self.now - 60,
            "sid": "sess_1",
            "iat": self.now - 60,
            "nbf": self.now - 60,
            "exp": self.now + 3600,
            "jti": "at_1",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any], *, key: TestKey | None = None, **header: Any) -> str:
        """Sign ``claims`` with pyjwt; ``header`` members override ``alg``/``kid``/``typ``
        or add others, and a value of ``None`` removes a member."""
        key = key or self.keys[0]
        members = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt", **header}
        members = {name: value for name, value in members.items() if value is not None}
        parts = [b64url(json.dumps(members)), b64url(json.dumps(claims))]
        algorithm = jwt.get_algorithm_by_name(members.get("alg", key.alg))
        signature = algorithm.sign(".".join(parts).encode(), key.private_key)
        return ".".join([*parts, b64url(signature)])

    def access_token(self, *, key: TestKey | None = None, **claims: Any) -> str:
        """A signed access token (``typ: at+jwt``)."""
        return self.sign(self.claims(**claims), key=key, typ="at+jwt")

    def id_token(self, nonce: str, *, key: TestKey | None = None, **claims: Any) -> str:
        """A signed ID token (``typ: JWT``) echoing ``nonce``."""
        return self.sign(self.claims(nonce=nonce, **claims), key=key, typ="JWT")
