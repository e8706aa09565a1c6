"""A session too big for the cookie store is a permanent refusal, and its tokens are revoked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations._errors import SessionError, SessionTooLargeError
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore
from tests.browsing import PAGE

from .apps import ADAPTERS, kit, set_cookies

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
    assert not any(cookie.startswith("authonomy_session=") for cookie in set_cookies(answer))
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1
    with sb.state.lock:
        newest = max(sb.state.sessions.values(), key=lambda session: session.created_at)
    assert newest.revoked


class FailingStore(MemorySessionStore):
    """A memory store whose saves fail with ``error`` while it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.error: Exception | None = None

    def save(self, record: SessionRecord, ttl: int) -> str:
        if self.error is not None:
            raise self.error
        return super().save(record, ttl)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (RuntimeError("a bug in a custom store"), 400),
        (SessionTooLargeError("too large for this store"), 400),
        (SessionError("store out of reach"), 503),
    ],
)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_callback_never_answers_500_after_the_code_exchange_and_revokes_the_tokens(
    adapter: str, sb: Sandbox, error: Exception, status: int
) -> None:
    store = FailingStore()
    store.error = error
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        answer = _callback(app.client)
    assert answer.status_code == status
    assert "text/html" in answer.headers["content-type"]
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_session_that_outgrows_its_store_on_refresh_is_ended_not_kept_failing(
    adapter: str,
) -> None:
    store = FailingStore()
    with (
        Sandbox(token_ttl=120) as sb,
        kit(
            adapter, sb.config(max_retries=0, session_store=store), clock=sb.state.clock.now
        ) as app,
    ):
        assert _callback(app.client).status_code == 302
        assert app.client.get("/home", headers=PAGE).status_code == 200
        store.error = SessionTooLargeError("the refreshed session is too large")
        logouts = sb.request_count("DELETE", "/v1/auth/logout")
        sb.advance_clock(100)  # the access token is due for refresh
        answer = app.client.get("/home", headers=PAGE)
        assert answer.status_code == 302
        assert answer.headers["location"].startswith("/auth/login")
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1
