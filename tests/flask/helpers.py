"""Helpers for the Flask tests: a live waitress server, a browser, tokens from the sandbox."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import waitress
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from waitress import wasyncore

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.core.login import new_nonce, new_pkce
from authonomy_integrations.sandbox import Sandbox, hosted_login

#: Headers a browser sends when it loads a page.
PAGE = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
#: Headers of a script calling the API.
API = {"Accept": "application/json", "Sec-Fetch-Mode": "cors"}


@dataclass
class LiveServer:
    """A Flask app served by waitress (several worker threads) on a loopback port."""

    url: str
    app: Flask


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port, bound before the app exists."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: Flask, sock: socket.socket, threads: int = 8) -> Iterator[LiveServer]:
    """Serve ``app`` on ``sock`` until the block ends, then stop every thread."""
    server: Any = waitress.create_server(app, sockets=[sock], threads=threads)
    stop = threading.Event()

    def run() -> None:
        # waitress's own loop has no stop switch; this one checks for it between polls
        # and closes the sockets in the thread that polls them.
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        wasyncore.close_all(server._map)

    host, port = sock.getsockname()
    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://{host}:{port}", app)
    finally:
        server.task_dispatcher.shutdown()
        stop.set()
        thread.join(timeout=10)
        app.extensions["authonomy"].close()


def browser(url: str) -> httpx.Client:
    """A browser: a cookie jar, redirects followed by hand, page requests by default."""
    return httpx.Client(base_url=url, headers=PAGE, follow_redirects=False, timeout=30)


def sign_in(client: httpx.Client, user: str = "bob", next_path: str = "/profile") -> httpx.Response:
    """Log in through the app's login route and the hosted pages; the callback's answer."""
    start = client.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    return complete(client, start.headers["location"], user)


def complete(client: httpx.Client, authorization_url: str, user: str = "bob") -> httpx.Response:
    """Finish a login started elsewhere: hosted pages, then the app's callback."""
    callback = hosted_login(client, authorization_url, user=user)
    return client.get(callback)


@dataclass(frozen=True)
class Tokens:
    """Tokens of a real login made through the API (no app involved)."""

    access_token: str
    id_token: str


def issue_tokens(sb: Sandbox, user: str = "bob", *, groups: list[str] | None = None) -> Tokens:
    """Sign ``user`` in through the API and the hosted pages; their tokens."""
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


def signed_by_sandbox(sb: Sandbox, claims: Mapping[str, Any]) -> str:
    """An access token with these claims, signed with the sandbox's current key."""
    return sb.state.keys.sign(dict(claims), typ="at+jwt")


def signed_by_stranger(sb: Sandbox, claims: Mapping[str, Any]) -> str:
    """An access token naming the sandbox's key but signed with another RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": sb.state.keys.current_kid, "typ": "at+jwt"}
    return jwt.encode(dict(claims), key, algorithm="RS256", headers=headers)
