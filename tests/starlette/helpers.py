"""Helpers for the Starlette/FastAPI tests: a real uvicorn server, a browser, tokens."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.core.login import new_nonce, new_pkce
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.sandbox.server import bind_socket

#: Headers a browser sends when it loads a page (the kit redirects these to login).
NAVIGATE = {"accept": "text/html", "sec-fetch-mode": "navigate"}
#: Headers of a script calling a JSON API (the kit answers these with 401).
API = {"accept": "application/json", "sec-fetch-mode": "cors"}


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@contextmanager
def serve(make_app: Callable[[str], Any]) -> Iterator[str]:
    """Serve ``make_app(base_url)`` with uvicorn on a free loopback port; yield the URL."""
    sock = bind_socket("127.0.0.1", 0)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(make_app(base_url), log_config=None, log_level="warning", lifespan="on")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(10):
            raise RuntimeError("the app server did not start")
        yield base_url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def browser(base_url: str) -> httpx.Client:
    """An httpx client acting as a browser: keeps cookies, follows no redirects."""
    return httpx.Client(base_url=base_url, headers=NAVIGATE, follow_redirects=False)


def start_login(http: httpx.Client, **params: str) -> str:
    """GET the login route; the Authonomy authorization URL it redirects to."""
    answer = http.get("/auth/login", params=params)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(
    http: httpx.Client, user: str = "bob", next_path: str = "/profile", **kw: Any
) -> httpx.Response:
    """A whole login through the app and the hosted pages; the callback's response."""
    callback = hosted_login(http, start_login(http, next=next_path), user=user, **kw)
    return http.get(callback)


def session_cookie(http: httpx.Client) -> str:
    """The session cookie the app set in this browser."""
    value = http.cookies.get("authonomy_session")
    assert value, "no session cookie"
    return value


def api_tokens(sb: Sandbox, user: str = "bob") -> dict[str, Any]:
    """A real token set for ``user``, obtained from the sandbox's API like any app would."""
    verifier, challenge = new_pkce()
    return_url = "http://127.0.0.1:9/callback"
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
        start = client.auth.authorize(
            customer_id="acme-corp",
            return_url=return_url,
            scopes=["openid", "profile", "email", "groups"],
            code_challenge=challenge,
            nonce=new_nonce(),
        )
        with httpx.Client() as http:
            location = hosted_login(http, start["authorization_url"], user=user)
        params = dict(parse_qsl(urlsplit(location).query))
        tokens = client.auth.token(params["code"], params["state"], verifier, return_url)
    return dict(tokens)


def access_claims(sb: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid access token for alice, at the sandbox's current time."""
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


def mint(sb: Sandbox, typ: str = "at+jwt", **overrides: Any) -> str:
    """An access token signed with the sandbox's own key (claims may be overridden)."""
    return sb.state.keys.sign(access_claims(sb, **overrides), typ=typ)


def forged(sb: Sandbox) -> str:
    """A well-formed token naming the sandbox's key but signed with another key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": sb.state.keys.current_kid, "typ": "at+jwt"}
    return jwt.encode(access_claims(sb), key, algorithm="RS256", headers=headers)


def bearer(token: str) -> dict[str, str]:
    """API call headers carrying ``token``."""
    return {**API, "authorization": f"Bearer {token}"}
