"""A sign-in time in the future is no fresh login: ``max_session_duration`` fails for an
``auth_time`` later than now (beyond ``leeway``) or than the token's own ``iat``, as it
does for an unknown one."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import Sandbox

from ..browsing import bearer, issue_tokens
from .apps import Adapter

DAY = 86400


def _token(sb: Sandbox, changes: dict[str, float | None]) -> str:
    """A genuine access token of bob's, re-signed by the sandbox with its claims moved
    to now + ``changes[name]`` seconds (``None``: removed)."""
    claims: dict[str, Any] = jwt.decode(
        issue_tokens(sb, "bob").access_token, options={"verify_signature": False}
    )
    now = int(sb.state.clock.now())
    for name, offset in changes.items():
        if offset is None:
            del claims[name]
        else:
            claims[name] = int(now + offset)
    return sb.state.keys.sign(claims, "at+jwt")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"auth_time": -60, "iat": 0}, 200),  # a minute ago: fresh
        ({"auth_time": 10, "iat": 10}, 200),  # clock skew within the leeway (30 s)
        ({"auth_time": 30 * DAY, "iat": 0}, 403),  # a month ahead
        ({"auth_time": 30 * DAY, "iat": None}, 403),  # the same, no iat to compare
        ({"auth_time": 120, "iat": None}, 403),  # beyond the leeway
        ({"auth_time": -100, "iat": -200}, 403),  # after the token was issued
        ({"auth_time": -600, "iat": 0}, 403),  # too old, as before
    ],
    ids=[
        "fresh",
        "skew",
        "month-ahead",
        "month-ahead-no-iat",
        "minutes-ahead",
        "after-iat",
        "stale",
    ],
)
def test_max_session_duration_needs_a_sign_in_time_that_has_happened(
    adapter: Adapter, sb: Sandbox, changes: dict[str, float | None], status: int
) -> None:
    token = _token(sb, changes)

    def config(url: str) -> Any:
        return sb.config(app_url=url, policies={"require-mfa": {"max_session_duration": 300}})

    with adapter.serve(config, sb.state.clock.now) as url:
        answer = httpx.get(f"{url}/mfa", headers=bearer(token))
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json()["error"]["code"] == "POLICY_VIOLATED"
