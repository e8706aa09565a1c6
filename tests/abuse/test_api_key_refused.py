"""An API key Authonomy refuses (rotated, revoked, mistyped): a policy it will not hand
over refuses guarded requests with a plain 500, every time, and a session due for refresh
is kept and served while its access token lasts, then answered 503; never a traceback,
never access past the token, and the cause is logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as
from tests.browsing import API, bearer, mint

from .apps import ADAPTERS, home, kit, take_session_cookie

WRONG_KEY = "ak_test_not_a_key_of_this_app"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _envelope(answer: Any) -> dict[str, Any]:
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = json.loads(answer.text)
    return body


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_policy_behind_a_refused_api_key_refuses_every_request_with_500(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[AuthEvent] = []
    config = sb.config(max_retries=0, api_key=WRONG_KEY, on_event=events.append)
    alice = {**API, **bearer(mint(sb))}
    with caplog.at_level(logging.ERROR, "authonomy_integrations"), kit(adapter, config) as app:
        # The first request fetches the policy; the next ones wait for the retry: the same
        # answer either way, not a 503 "try again" that would never come true by itself.
        for _ in range(3):
            answer = app.client.get("/mfa", headers=alice)
            assert answer.status_code == 500
            error = _envelope(answer)["error"]
            assert error["code"] == "INTERNAL_ERROR"
            assert "could not be checked" in error["message"]
            assert "API key" not in answer.text  # the cause is for the logs, not the caller
        # Routes without the policy are served as usual.
        assert app.client.get("/whoami", headers=alice).status_code == 200
    fetch_failures = [r for r in caplog.records if "could not be fetched" in r.getMessage()]
    assert len(fetch_failures) == 1  # once per try, not once per request
    assert "INVALID_API_KEY" in fetch_failures[0].getMessage()
    assert "AUTHONOMY_API_KEY" in fetch_failures[0].getMessage(), "where the key is set"
    refused = [e for e in events if e.name == "policy.failed"]
    assert [e.reason for e in refused] == ["unavailable"] * 3
    assert refused[0].fields["policy"] == "require-mfa"
    assert refused[0].user_id == "user_alice"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_session_due_for_refresh_behind_a_refused_api_key_is_kept_and_never_a_500(
    adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemorySessionStore()
    secret = "s" * 43
    with Sandbox(token_ttl=120) as sb:
        signed_in = sb.config(max_retries=0, session_store=store, session_secret=secret)
        with kit(adapter, signed_in, clock=sb.state.clock.now) as app:
            assert login_as(app.client, "alice", next_path="/home") == "/home"
            cookie = take_session_cookie(app.client)
        # The app is deployed again with an API key Authonomy does not accept.
        refused = sb.config(
            max_retries=0, session_store=store, session_secret=secret, api_key=WRONG_KEY
        )
        with kit(adapter, refused, clock=sb.state.clock.now) as app:
            sb.advance_clock(100)  # due for refresh, the access token still good
            with caplog.at_level(logging.WARNING, "authonomy_integrations"):
                assert home(app.client, cookie) == 200
            sb.advance_clock(60)  # the access token has expired: no refresh, no access
            answer_status = home(app.client, cookie)
            assert answer_status == 503
        with kit(adapter, signed_in, clock=sb.state.clock.now) as app:
            assert home(app.client, cookie) == 200  # the session was kept: the key fixed
    refusals = [r.getMessage() for r in caplog.records if "INVALID_API_KEY" in r.getMessage()]
    assert refusals and all("AUTHONOMY_API_KEY" in message for message in refusals), refusals
