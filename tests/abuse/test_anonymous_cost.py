"""Anonymous requests cost nothing unbounded: no API quota, no memory per made-up value."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from authonomy_integrations._core.throttle import LoginThrottle, client_key
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.sandbox._models import LoginRequest
from tests.browsing import API, PAGE

from .apps import ADAPTERS, kit

SPRAY = 500


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _calls(sb: Sandbox) -> dict[str, int]:
    return {
        "authorize": sb.request_count("POST", "/v1/auth/authorize"),
        "policies": sb.request_count("GET", "/v1/policies"),
    }


def _login(step_up: str, next_path: str) -> str:
    return "/auth/login?" + urlencode({"step_up": step_up, "next": next_path})


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_500_anonymous_logins_with_made_up_step_up_and_next_cost_no_quota_or_memory(
    adapter: str, sb: Sandbox
) -> None:
    # A day's window: over a real server the spray takes seconds, which must not refill
    # the allowance while it runs.
    with kit(adapter, sb.config(max_retries=0, login_rate_window=86400)) as app:
        assert app.client.get(_login("warm-up", "/"), headers=PAGE).status_code == 302
        before, calls = app.state(), _calls(sb)
        statuses = [
            app.client.get(_login(f"policy-{i}", f"/page/{i}?q={i}"), headers=PAGE).status_code
            for i in range(SPRAY)
        ]
        used = {name: count - calls[name] for name, count in _calls(sb).items()}
        assert app.state() == before
    limit = sb.config().login_rate_limit
    assert used["policies"] <= 1
    assert used["authorize"] <= limit
    assert statuses.count(302) == used["authorize"]
    assert statuses.count(429) == SPRAY - used["authorize"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_step_up_names_the_app_does_not_use_are_ignored_without_any_lookup(
    adapter: str, sb: Sandbox
) -> None:
    with kit(adapter, sb.config(max_retries=0, login_rate_limit=0)) as app:
        app.client.get(_login("warm-up", "/"), headers=PAGE)
        before, calls = app.state(), _calls(sb)
        for i in range(SPRAY // 5):
            answer = app.client.get(_login(f"made-up-{i}", f"/p/{i}"), headers=PAGE)
            assert answer.status_code == 302
        assert app.state() == before
    assert _calls(sb)["policies"] == calls["policies"]
    assert _calls(sb)["authorize"] == calls["authorize"] + SPRAY // 5


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_step_up_for_a_guarded_policy_still_asks_for_mfa(adapter: str, sb: Sandbox) -> None:
    with kit(adapter, sb.config(max_retries=0)) as app:
        answer = app.client.get(_login("require-mfa", "/admin"), headers=PAGE)
        assert answer.status_code == 302
        request = _last_login_request(sb)
        assert request.mfa_requested
        assert request.prompt == "login"
        answer = app.client.get(_login("not-used-here", "/admin"), headers=PAGE)
        assert answer.status_code == 302
        request = _last_login_request(sb)
        assert not request.mfa_requested
        assert request.prompt is None


def _last_login_request(sb: Sandbox) -> LoginRequest:
    with sb.state.lock:
        return list(sb.state.login_requests.values())[-1]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_starts_over_the_limit_get_429_with_retry_after(adapter: str, sb: Sandbox) -> None:
    with kit(adapter, sb.config(max_retries=0, login_rate_limit=3, login_rate_window=60)) as app:
        for _ in range(3):
            assert app.client.get("/auth/login?next=/a", headers=PAGE).status_code == 302
        calls = _calls(sb)
        page = app.client.get("/auth/login?next=/a", headers=PAGE)
        api = app.client.get("/auth/login?next=/a", headers=API)
        assert _calls(sb) == calls
    assert page.status_code == 429
    assert page.headers["retry-after"] == "20"
    assert "text/html" in page.headers["content-type"]
    assert api.status_code == 429
    body = api.get_json() if adapter == "flask" else api.json()
    assert body["error"]["code"] == "RATE_LIMITED"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_each_client_address_has_its_own_login_allowance(adapter: str, sb: Sandbox) -> None:
    with kit(adapter, sb.config(max_retries=0, login_rate_limit=1)) as app:
        assert app.get_from("192.0.2.1", "/auth/login?next=/", PAGE).status_code == 302
        assert app.get_from("192.0.2.1", "/auth/login?next=/", PAGE).status_code == 429
        assert app.get_from("192.0.2.2", "/auth/login?next=/", PAGE).status_code == 302


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_signed_in_browser_counts_against_the_login_limit_too(adapter: str, sb: Sandbox) -> None:
    # One cheap account must not spend the app's authorize quota with "step-ups".
    with kit(adapter, sb.config(max_retries=0, login_rate_limit=1)) as app:
        start = app.client.get("/auth/login?next=/home", headers=PAGE)
        done = app.client.get(hosted_login_from(start.headers["location"]), headers=PAGE)
        assert done.status_code == 302
        calls = _calls(sb)
        again = app.client.get(_login("require-mfa", "/admin"), headers=PAGE)
        assert _calls(sb) == calls
    assert again.status_code == 429


def hosted_login_from(authorization_url: str) -> str:
    """Sign bob in at the sandbox's hosted pages; the app's callback path and query."""
    with httpx.Client() as browser:
        location = hosted_login(browser, authorization_url, user="bob")
    return location[location.index("/auth/callback") :]


def test_throttle_refills_over_the_window_and_counts_an_ipv6_slash_64_as_one() -> None:
    throttle = LoginThrottle(limit=2, window=60)
    assert throttle.take("2001:db8::1", 0) is None
    assert throttle.take("2001:db8::ffff", 0) is None
    assert throttle.take("2001:db8::2", 1) == 29
    assert throttle.take("2001:db8:0:1::1", 1) is None
    assert throttle.take("2001:db8::3", 31) is None
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3"


def test_throttle_table_stays_bounded_when_addresses_keep_changing() -> None:
    throttle = LoginThrottle(limit=5, window=60, max_clients=100)
    for i in range(1000):
        throttle.take(f"10.0.{i // 256}.{i % 256}", 0)
    assert len(throttle) == 100


def test_throttle_off_when_limit_is_zero() -> None:
    throttle = LoginThrottle(limit=0, window=60)
    assert all(throttle.take("10.0.0.1", 0) is None for _ in range(100))
