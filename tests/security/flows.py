"""Browser steps shared by the security scenarios."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.sandbox._seed import SANDBOX_MFA_CODE

from ..browsing import PAGE


def browser(base_url: str, **kw: Any) -> httpx.Client:
    """A browser: keeps cookies, follows no redirects, loads pages."""
    return httpx.Client(base_url=base_url, headers=PAGE, follow_redirects=False, **kw)


def start_login(http: httpx.Client, **params: str) -> str:
    """GET the login route; the authorization URL it sends the browser to."""
    answer = http.get("/auth/login", params=params)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def sign_in(http: httpx.Client, user: str = "bob", **params: str) -> httpx.Response:
    """A whole login through the app and the hosted pages; the callback's answer."""
    callback = hosted_login(http, start_login(http, **params), user=user)
    return http.get(callback)


def whoami(http: httpx.Client, **kw: Any) -> Any:
    """Who the app thinks is calling."""
    answer = http.get("/whoami", **kw)
    assert answer.status_code == 200, answer.text
    return answer.json()["user"]


def handle(authorization_url: str) -> str:
    """The login-request handle in an authorization URL."""
    return dict(parse_qsl(urlsplit(authorization_url).query))["code"]


def pick_anyway(http: httpx.Client, authorization_url: str, user: str) -> str:
    """Sign in as ``user`` at the hosted pages even if the page does not offer them, as a
    hand-made form post (or an IdP that ignores ``login_hint``) would; the callback URL."""
    select = urljoin(authorization_url, "/authorize/select")
    answer = http.post(select, data={"code": handle(authorization_url), "user": user})
    if answer.status_code == 200:  # the MFA step
        mfa = urljoin(authorization_url, "/authorize/mfa")
        data = {"code": handle(authorization_url), "otp": SANDBOX_MFA_CODE}
        answer = http.post(mfa, data=data)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def authonomy_sessions(sb: Sandbox, username: str) -> list[Any]:
    """The sandbox's sessions of ``username``, oldest first."""
    with sb.state.lock:
        return [s for s in sb.state.sessions.values() if s.identity.user.username == username]
