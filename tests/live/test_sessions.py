"""Sessions through each adapter's example app over real HTTP: refresh (once, and once for
twenty concurrent requests), the cookie store written back, logout and its attacks, and
Authonomy outages."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore

from ..adapters import Adapter
from ..browsing import API, PAGE, browser, session_cookie, sign_in
from .conftest import TOKEN_TTL, example, refreshes

#: Past the access token's life, not past the 30 seconds of leeway.
EXPIRED = TOKEN_TTL + 5
#: Past the token's life and the leeway: the session cannot be used unrefreshed.
PAST_LEEWAY = TOKEN_TTL + 50


def test_expired_access_token_is_refreshed_once_before_the_view(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    before = refreshes(sandbox)
    assert client.get("/profile").status_code == 200
    assert refreshes(sandbox) == before  # a fresh token is not refreshed
    sandbox.advance_clock(EXPIRED)
    first = client.get("/api/me", headers=API)
    second = client.get("/api/me", headers=API)
    assert first.status_code == second.status_code == 200
    assert first.json()["email"] == "bob@acme-corp.com"
    assert refreshes(sandbox) == before + 1


def test_twenty_concurrent_requests_of_one_session_share_one_refresh(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    cookies = dict(client.cookies.items())
    sandbox.advance_clock(EXPIRED)
    before = refreshes(sandbox)
    barrier = threading.Barrier(20)

    def call(_: int) -> int:
        with httpx.Client(base_url=str(client.base_url), cookies=cookies, timeout=30) as tab:
            barrier.wait(timeout=30)
            response = tab.get("/api/me", headers=API)
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(call, range(20)))
    assert statuses == [200] * 20
    assert refreshes(sandbox) == before + 1


def test_refreshed_cookie_session_is_written_back_to_the_browser(
    adapter: Adapter, sandbox: Sandbox
) -> None:
    secret = "s" * 40
    store = CookieSessionStore(secret, clock=sandbox.state.clock.now)
    settings = {"session_secret": secret, "session_store": store}
    with example(adapter, sandbox, **settings) as url, browser(url) as http:
        sign_in(http)
        before = session_cookie(http)
        sandbox.advance_clock(EXPIRED)
        page = http.get("/profile")
        assert page.status_code == 200
        assert page.headers["set-cookie"].startswith("authonomy_session=")
        assert session_cookie(http) != before
        # The next request carries the refreshed cookie and needs no new refresh.
        count = refreshes(sandbox)
        assert http.get("/profile").status_code == 200
        assert refreshes(sandbox) == count


def test_logout_ends_the_session_and_the_old_cookie_is_refused(
    client: httpx.Client, live: str, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    old = dict(client.cookies.items())
    logouts = sandbox.request_count("DELETE", "/v1/auth/logout")
    response = client.post("/auth/logout", headers={"Origin": live})
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"  # the examples confirm it
    cleared = response.headers["set-cookie"]
    assert "authonomy_session=;" in cleared or 'authonomy_session="";' in cleared
    assert "Max-Age=0" in cleared
    assert sandbox.request_count("DELETE", "/v1/auth/logout") == logouts + 1
    with httpx.Client(base_url=live, cookies=old) as replay:
        assert replay.get("/api/me", headers=API).status_code == 401
        assert replay.get("/profile", headers=PAGE).status_code == 302


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}],
    ids=["foreign-origin", "cross-site-fetch", "no-origin"],
)
def test_logout_from_another_site_is_refused_and_the_session_kept(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    sign_in(client, "bob")
    response = client.post("/auth/logout", headers=headers)
    assert response.status_code == 403
    assert client.get("/api/me", headers=API).status_code == 200
    assert client.get("/profile").status_code == 200


def test_logout_by_get_is_not_served(client: httpx.Client) -> None:
    sign_in(client, "bob")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/api/me", headers=API).status_code == 200


def test_authonomy_down_answers_503_then_recovers(client: httpx.Client, sandbox: Sandbox) -> None:
    sign_in(client, "bob")
    cookie = session_cookie(client)
    sandbox.advance_clock(PAST_LEEWAY)  # the token must be refreshed before any use
    with sandbox.down():
        page = client.get("/profile")
        api = client.get("/api/me", headers=API)
    assert page.status_code == api.status_code == 503
    assert int(page.headers["retry-after"]) >= 1
    assert api.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    assert "set-cookie" not in api.headers  # the session is kept for later
    assert session_cookie(client) == cookie
    assert client.get("/api/me", headers=API).json()["email"] == "bob@acme-corp.com"
    assert client.get("/profile").status_code == 200


def test_short_outage_within_leeway_keeps_serving(client: httpx.Client, sandbox: Sandbox) -> None:
    sign_in(client, "bob")
    sandbox.advance_clock(EXPIRED)
    with sandbox.down():
        assert client.get("/profile").status_code == 200
        assert client.get("/api/me", headers=API).status_code == 200
