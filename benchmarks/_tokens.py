"""Tokens and sessions for the benchmarks, from a running embedded sandbox.

The repeat-token and session variants use what a real login returns. Many distinct
tokens (first-seen variants, the Authlib peer which insists on ``client_id``) are signed
with the sandbox's own current key, from the claims of a real login: they verify
against the sandbox's published JWKS exactly like tokens it issues itself.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._core.crypto import b64url_decode
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox, hosted_login


@dataclass(frozen=True)
class Login:
    """A completed real login: the session cookie value and the access token."""

    session_cookie: str
    access_token: str
    claims: Mapping[str, Any]


def real_login(sb: Sandbox, config: AuthonomyConfig, user: str = "alice") -> Login:
    """Sign ``user`` in through the sandbox's hosted pages; the session lands in the
    configured store, so a middleware built from the same config accepts the cookie."""
    kit = AuthonomySync(config)
    try:
        start = kit.run(
            kit.engine.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
        )
        with httpx.Client() as browser:
            location = hosted_login(browser, start.redirect_url, user=user)
        params = dict(parse_qsl(urlsplit(location).query))
        done = kit.run(
            kit.engine.finish_login(params, login_cookie=start.login_cookie, old_session=None)
        )
        record = kit.store.load(done.session_cookie)
    finally:
        kit.close()
    if record is None:
        raise RuntimeError("the login's session cannot be loaded back from its store")
    token = record.tokens.access_token
    return Login(done.session_cookie, token, payload(token))


def payload(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (only for building look-alike tokens)."""
    claims: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return claims


def mint(sb: Sandbox, base: Mapping[str, Any], **changes: Any) -> str:
    """An access token signed with the sandbox's current key: ``base`` claims plus
    ``changes``, with a fresh ``jti`` and a ``client_id`` (RFC 9068 wants one)."""
    claims = {**base, "jti": secrets.token_urlsafe(16), "client_id": sb.audience, **changes}
    return sb.state.keys.sign(claims, typ="at+jwt")


def mint_many(sb: Sandbox, base: Mapping[str, Any], count: int) -> list[str]:
    """``count`` distinct valid tokens for different users of the same customer."""
    return [mint(sb, base, sub=f"user_bench{i:06d}", sid=f"ses_bench{i:06d}") for i in range(count)]


def public_key(sb: Sandbox) -> RSAPublicKey:
    """The sandbox's current verification key, as a peer would preload it."""
    key = jwt.PyJWK(jwks(sb)["keys"][-1]).key
    if not isinstance(key, RSAPublicKey):
        raise RuntimeError("the benchmarks expect the sandbox's default RS256 keys")
    return key


def jwks(sb: Sandbox) -> dict[str, Any]:
    """The sandbox's published key set."""
    return sb.state.keys.jwks()
