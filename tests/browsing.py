"""A browser and a script against an app over HTTP: the headers each sends, a login through
the app and the sandbox's hosted pages, and tokens (real, look-alike and forged) to call
the app's API with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from authonomy_integrations import AuthonomyClient
from authonomy_integrations._core.login import new_nonce, new_pkce
from authonomy_integrations.sandbox import Sandbox, hosted_login

#: Headers a browser sends when it loads a page (the kit redirects these to login).
PAGE = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
#: Headers of a script calling a JSON API (the kit answers these with 401).
API = {"Accept": "application/json", "Sec-Fetch-Mode": "cors"}


def browser(url: str) -> httpx.Client:
    """A browser: a cookie jar, redirects followed by hand, page requests by default."""
    return httpx.Client(base_url=url, headers=PAGE, follow_redirects=False, timeout=30)


def start_login(client: httpx.Client, **params: str) -> str:
    """GET the app's login route; the Authonomy authorization URL it redirects to."""
    start = client.get("/auth/login", params=params)
    assert start.status_code == 302, start.text
    return start.headers["location"]


def sign_in(
    client: httpx.Client, user: str = "bob", next_path: str = "/profile", **hosted: Any
) -> httpx.Response:
    """Log in through the app's login route and the hosted pages; the callback's answer.

    ``hosted`` goes to the hosted pages (``mfa=False``, ``cancel=True``, ...)."""
    return complete(client, start_login(client, next=next_path), user, **hosted)


def complete(
    client: httpx.Client, authorization_url: str, user: str = "bob", **hosted: Any
) -> httpx.Response:
    """Finish a login started elsewhere: hosted pages, then the app's callback."""
    return client.get(hosted_login(client, authorization_url, user=user, **hosted))


def session_cookie(client: httpx.Client) -> str:
    """The session cookie the app set in this browser."""
    value = client.cookies.get("authonomy_session")
    assert value, "no session cookie"
    return value


def bearer(token: str) -> dict[str, str]:
    """API call headers carrying ``token``."""
    return {**API, "Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Tokens:
    """Tokens of a real login made through the API (no app involved)."""

    access_token: str
    id_token: str


def issue_tokens(sb: Sandbox, user: str = "bob", *, groups: list[str] | None = None) -> Tokens:
    """Sign ``user`` in through the API and the hosted pages, as an app would; the tokens."""
    verifier, challenge = new_pkce()
    return_url = "http://127.0.0.1:9/callback"
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as api:
        start = api.auth.authorize(
            "acme-corp",
            return_url,
            ["openid", "profile", "email", "groups"],
            challenge,
            new_nonce(),
        )
        with httpx.Client() as idp:
            location = hosted_login(idp, start["authorization_url"], user=user, groups=groups)
        params = dict(parse_qsl(urlsplit(location).query))
        answer = api.auth.token(params["code"], params["state"], verifier, return_url)
    return Tokens(answer["access_token"], answer.get("id_token", ""))


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: the base of look-alike tokens."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def access_claims(sb: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid access token for alice, at the sandbox's current time; an
    override of ``None`` leaves the claim out."""
    now = int(sb.state.clock.now())
    claims = {
        "iss": sb.issuer,
        "aud": sb.audience,
        "sub": "user_alice",
        "customer_id": "acme-corp",
        "email": "alice@acme-corp.com",
        "name": "Alice Anderson",
        "groups": ["admins", "engineering"],
        "scope": "openid profile email groups",
        "amr": ["pwd", "mfa"],
        "auth_time": now,
        "sid": "ses_test",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": secrets.token_urlsafe(8),
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def signed_by_sandbox(sb: Sandbox, claims: dict[str, Any], typ: str = "at+jwt") -> str:
    """A token with these claims, signed with the sandbox's current key."""
    return sb.state.keys.sign(dict(claims), typ=typ)


def mint(sb: Sandbox, typ: str = "at+jwt", **overrides: Any) -> str:
    """An access token for alice signed with the sandbox's own key (see
    :func:`access_claims` for the overrides)."""
    return signed_by_sandbox(sb, access_claims(sb, **overrides), typ)


@cache
def _stranger_key() -> rsa.RSAPrivateKey:
    # One key for the whole run: making an RSA key takes a while, and any key but the
    # sandbox's own serves.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged(sb: Sandbox, claims: dict[str, Any] | None = None) -> str:
    """A well-formed token naming the sandbox's key but signed with another RSA key."""
    headers = {"kid": sb.state.keys.current_kid, "typ": "at+jwt"}
    body = claims if claims is not None else access_claims(sb)
    return jwt.encode(body, _stranger_key(), algorithm="RS256", headers=headers)
