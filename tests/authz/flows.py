"""Steps shared by the authorization scenarios: tokens with chosen scopes, a browser's
sign-in, its session listing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from authonomy_integrations import AuthonomyClient
from authonomy_integrations._core.login import new_nonce, new_pkce
from authonomy_integrations.sandbox import Sandbox, hosted_login

from ..browsing import PAGE

BASE_SCOPES = ["openid", "profile", "email", "groups"]


def token_with(sb: Sandbox, *extra: str, user: str = "bob") -> dict[str, Any]:
    """A token answer for ``user`` signed in through the API, granting the base scopes and
    ``extra`` (as an app asking for them would get)."""
    verifier, challenge = new_pkce()
    return_url = "http://127.0.0.1:9/callback"
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as api:
        scopes = [*BASE_SCOPES, *extra]
        start = api.auth.authorize("acme-corp", return_url, scopes, challenge, new_nonce())
        with httpx.Client() as idp:
            location = hosted_login(idp, start["authorization_url"], user=user)
        params = dict(parse_qsl(urlsplit(location).query))
        answer: dict[str, Any] = dict(
            api.auth.token(params["code"], params["state"], verifier, return_url)
        )
    return answer


def browser(url: str, agent: str = "TestBrowser/1.0") -> httpx.Client:
    """A browser with its own cookie jar and ``User-Agent``; redirects followed by hand."""
    headers = {**PAGE, "User-Agent": agent}
    return httpx.Client(base_url=url, headers=headers, follow_redirects=False, timeout=30)


def sign_in(http: httpx.Client, user: str = "bob") -> None:
    """A whole login through the app and the hosted pages."""
    start = http.get("/auth/login", params={"next": "/whoami"})
    assert start.status_code == 302, start.text
    answer = http.get(hosted_login(http, start.headers["location"], user=user))
    assert answer.status_code == 302, answer.text


def who(http: httpx.Client) -> str | None:
    """Who the app thinks this browser is."""
    answer = http.get("/whoami", headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    user: str | None = answer.json()["user"]
    return user


def sessions(http: httpx.Client) -> list[dict[str, Any]]:
    """The browser's user's sessions, as the sessions route lists them."""
    answer = http.get("/auth/sessions", headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    listed: list[dict[str, Any]] = answer.json()["sessions"]
    return listed
