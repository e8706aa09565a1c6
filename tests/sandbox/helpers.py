"""Client-side steps of the contract, written independently of the kit for sandbox tests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from authonomy_integrations.sandbox import Sandbox, hosted_login

RETURN_URL = "http://127.0.0.1:8000/auth/callback"


def api(sb: Sandbox, key: str | None = None) -> httpx.Client:
    """An API client for the sandbox with ``key`` (the full-access key by default)."""
    headers = {"Authorization": f"Bearer {key or sb.api_key}", "Accept": "application/json"}
    return httpx.Client(base_url=sb.api_base_url, headers=headers, timeout=10)


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Login:
    """A started login: what the app keeps between authorize and callback."""

    authorization_url: str
    state: str
    verifier: str
    nonce: str


def start_login(client: httpx.Client, customer_id: str = "acme-corp", **extra: Any) -> Login:
    """``POST /auth/authorize`` with PKCE and a nonce."""
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(12)
    body = {
        "customer_id": customer_id,
        "return_url": RETURN_URL,
        "scopes": ["openid", "profile", "email", "groups"],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": nonce,
        **extra,
    }
    response = client.post("/auth/authorize", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return Login(data["authorization_url"], data["state"], verifier, nonce)


def callback_params(location: str) -> dict[str, str]:
    """The query of the redirect back to the app."""
    assert location.startswith(RETURN_URL + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def exchange(client: httpx.Client, login: Login, code: str, /, **changes: str) -> httpx.Response:
    """``POST /auth/token`` for ``code`` (fields overridable to test mismatches)."""
    body = {
        "code": code,
        "state": login.state,
        "code_verifier": login.verifier,
        "return_url": RETURN_URL,
        **changes,
    }
    return client.post("/auth/token", json=body)


def sign_in(
    client: httpx.Client, user: str = "bob", customer_id: str = "acme-corp", **login_extra: Any
) -> tuple[Login, dict[str, Any]]:
    """A whole login in a fresh browser; the login and the token set."""
    login = start_login(client, customer_id, **login_extra)
    with httpx.Client() as browser:
        code = callback_params(hosted_login(browser, login.authorization_url, user))["code"]
    response = exchange(client, login, code)
    assert response.status_code == 200, response.text
    return login, response.json()["data"]


def error_code(response: httpx.Response) -> str:
    """The contract error code of an error envelope."""
    body = response.json()
    assert body["success"] is False
    assert body["meta"]["request_id"].startswith("req_")
    return str(body["error"]["code"])
