"""A policy Authonomy will not hand over (the app's API key is refused): guarded requests
are refused with a plain 500, every time, and the cause is logged; nothing is let through."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox
from tests.browsing import API, bearer, mint

from .apps import ADAPTERS, kit

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
    refused = [e for e in events if e.name == "policy.failed"]
    assert [e.reason for e in refused] == ["unavailable"] * 3
    assert refused[0].fields["policy"] == "require-mfa"
    assert refused[0].user_id == "user_alice"
