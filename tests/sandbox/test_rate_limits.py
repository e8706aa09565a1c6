"""Rate limits per API key and category, with headers on every API response."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import api, error_code


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox with limits small enough to reach."""
    with Sandbox(rate_limits={"analytics": 3, "management": 5}) as sandbox:
        yield sandbox


def test_every_api_response_carries_rate_limit_headers(client: httpx.Client) -> None:
    responses = [
        client.get("/customers"),
        client.post("/auth/refresh", json={"refresh_token": "x"}),
        client.get("/customers/nobody"),
    ]
    for response in responses:
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
            response.headers
        )
    assert responses[1].headers["x-ratelimit-limit"] == "1000"


def test_requests_past_the_limit_get_429_with_retry_after(
    sb: Sandbox, client: httpx.Client
) -> None:
    # A second into a fresh one-minute window: the four requests cannot straddle two.
    sb.advance_clock(60 - sb.state.clock.now() % 60 + 1)
    answers = [client.get("/analytics/dashboard") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert error_code(answers[-1]) == "RATE_LIMITED"
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert int(answers[-1].headers["x-ratelimit-reset"]) > sb.state.clock.now()
    with api(sb, sb.read_only_api_key) as other_key:
        assert other_key.get("/analytics/users").status_code == 200
    assert client.get("/customers").status_code == 200
    sb.advance_clock(60)
    assert client.get("/audit/logs").status_code == 200
