"""A session too big for the cookie store is a permanent refusal, and its tokens are revoked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.stores import CookieSessionStore

from .apps import ADAPTERS, kit

PAGE = {"accept": "text/html", "sec-fetch-mode": "navigate"}
SECRET = "cookie-store-secret-" + "x" * 32


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _callback(client: Any) -> Any:
    start = client.get("/auth/login?next=/home", headers=PAGE)
    with httpx.Client() as browser:
        callback = hosted_login(browser, start.headers["location"], user="alice")
    return client.get(callback[callback.index("/auth/callback") :], headers=PAGE)


def _set_cookies(answer: Any) -> list[str]:
    headers = answer.headers
    return list(
        headers.getlist("set-cookie")
        if hasattr(headers, "getlist")
        else headers.get_list("set-cookie")
    )


def _text(answer: Any) -> str:
    return answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_session_too_big_for_a_cookie_is_a_clear_refusal_and_its_tokens_are_revoked(
    adapter: str, sb: Sandbox
) -> None:
    store = CookieSessionStore(SECRET, max_bytes=600)
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        answer = _callback(app.client)
    assert answer.status_code == 400
    assert "retry-after" not in answer.headers
    assert "too large to be kept in a cookie" in _text(answer)
    assert not any(cookie.startswith("authonomy_session=") for cookie in _set_cookies(answer))
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1
    with sb.state.lock:
        newest = max(sb.state.sessions.values(), key=lambda session: session.created_at)
    assert newest.revoked
