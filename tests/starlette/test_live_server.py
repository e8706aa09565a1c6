"""End to end: the example FastAPI app under uvicorn, the sandbox, httpx as the browser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.stores import CookieSessionStore

from .conftest import WEBHOOK_SECRET, example_app
from .helpers import API, api_tokens, bearer, browser, session_cookie, sign_in, start_login


@pytest.fixture
def http(app_url: str) -> Iterator[httpx.Client]:
    with browser(app_url) as client:
        yield client


def test_login_sets_session_and_returns_to_profile(http: httpx.Client) -> None:
    done = sign_in(http, user="alice")
    assert done.status_code == 302
    assert done.headers["location"] == "/profile"
    assert done.headers["referrer-policy"] == "no-referrer"
    assert done.headers["cache-control"] == "no-store"
    assert "HttpOnly" in done.headers["set-cookie"]
    profile = http.get("/profile")
    assert profile.status_code == 200
    assert "alice@acme-corp.com" in profile.text
    assert "admins" in profile.text and "engineering" in profile.text


def test_signed_out_browser_is_sent_to_login_with_next(http: httpx.Client) -> None:
    answer = http.get("/profile?tab=groups")
    assert answer.status_code == 302
    assert answer.headers["location"] == "/auth/login?next=%2Fprofile%3Ftab%3Dgroups"


def test_signed_out_api_call_gets_401_envelope(http: httpx.Client) -> None:
    answer = http.get("/api/me", headers=API)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"


def test_admin_page_steps_up_to_mfa_and_returns(http: httpx.Client, sb: Sandbox) -> None:
    sign_in(http, user="alice", mfa=False)
    refused = http.get("/admin")
    assert refused.status_code == 302
    step_up = refused.headers["location"]
    assert step_up == "/auth/login?next=%2Fadmin&step_up=require-mfa"
    authorize = http.get(step_up)
    assert authorize.status_code == 302
    # The sandbox asks for the MFA code because the app asked for acr_values=mfa.
    callback = hosted_login(http, authorize.headers["location"], user="alice")
    back = http.get(callback)
    assert back.headers["location"] == "/admin"
    admin = http.get("/admin")
    assert admin.status_code == 200
    assert "you signed in with MFA" in admin.text


def test_admin_api_call_without_mfa_gets_403_policy_violated(
    http: httpx.Client, sb: Sandbox
) -> None:
    sign_in(http, user="bob")
    answer = http.get("/admin", headers=API)
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "POLICY_VIOLATED"
    assert error["details"]["policy"] == "require-mfa"


def test_logout_ends_session_and_old_cookie_is_refused(app_url: str, http: httpx.Client) -> None:
    sign_in(http)
    old = session_cookie(http)
    answer = http.post("/auth/logout", headers={"origin": app_url})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signed-out"  # the example confirms it
    assert "Max-Age=0" in answer.headers["set-cookie"]
    with httpx.Client(base_url=app_url, cookies={"authonomy_session": old}) as replay:
        assert replay.get("/api/me", headers=API).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}],
    ids=["no-origin", "foreign-origin", "cross-site"],
)
def test_cross_site_logout_is_refused_and_session_kept(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    sign_in(http)
    answer = http.post("/auth/logout", headers=headers)
    assert answer.status_code == 403
    assert http.get("/profile").status_code == 200


def test_logout_answers_405_to_get(http: httpx.Client) -> None:
    assert http.get("/auth/logout").status_code == 405


def test_two_logins_started_in_two_tabs_both_complete(http: httpx.Client) -> None:
    first = start_login(http, next="/profile")
    second = start_login(http, next="/webhooks")
    second_done = http.get(hosted_login(http, second, user="bob"))
    first_done = http.get(hosted_login(http, first, user="bob"))
    assert second_done.headers["location"] == "/webhooks"
    assert first_done.headers["location"] == "/profile"
    assert http.get("/profile").status_code == 200


def test_replayed_callback_is_refused(http: httpx.Client) -> None:
    callback = hosted_login(http, start_login(http, next="/profile"), user="bob")
    assert http.get(callback).status_code == 302
    replay = http.get(callback)
    assert replay.status_code == 400
    assert "Sign-in failed" in replay.text


def test_cancelled_login_spends_the_attempt(http: httpx.Client) -> None:
    callback = hosted_login(http, start_login(http, next="/profile"), cancel=True)
    cancelled = http.get(callback)
    assert cancelled.status_code == 403
    assert "Sign-in cancelled" in cancelled.text
    # The attempt was written back as spent: the same URL no longer matches a login.
    assert http.get(callback).status_code == 400


def test_callback_from_another_browser_is_refused(app_url: str, http: httpx.Client) -> None:
    callback = hosted_login(http, start_login(http, next="/profile"), user="bob")
    with browser(app_url) as other:
        assert other.get(callback).status_code == 400
        assert "authonomy_session" not in other.cookies


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example"],
)
def test_login_never_redirects_off_site(http: httpx.Client, next_path: str) -> None:
    callback = hosted_login(http, start_login(http, next=next_path), user="bob")
    assert http.get(callback).headers["location"] == "/"


@pytest.fixture(scope="module")
def open_app_url(sb: Sandbox) -> Iterator[str]:
    """The example app with no pinned customer: ``?customer=`` picks the tenant."""
    with example_app(sb, customer_id=None) as base_url:
        yield base_url


def test_login_for_unknown_customer_shows_clean_400_page(open_app_url: str) -> None:
    with browser(open_app_url) as http:
        answer = http.get("/auth/login", params={"customer": "no-such-customer"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "no-such-customer" in answer.text and "not found" in answer.text
    assert "Traceback" not in answer.text


def test_login_for_customer_without_idp_shows_400_page(open_app_url: str) -> None:
    with browser(open_app_url) as http:
        answer = http.get("/auth/login", params={"customer": "initech"})
    assert answer.status_code == 400
    assert "Sign-in failed" in answer.text


def test_bearer_token_from_the_api_reads_the_json_api(app_url: str, sb: Sandbox) -> None:
    tokens = api_tokens(sb, user="bob")
    with httpx.Client(base_url=app_url) as client:
        answer = client.get("/api/me", headers=bearer(tokens["access_token"]))
    assert answer.status_code == 200
    assert answer.json()["email"] == "bob@acme-corp.com"
    assert answer.json()["groups"] == ["engineering"]


def test_id_token_is_refused_as_access_token(app_url: str, sb: Sandbox) -> None:
    tokens = api_tokens(sb, user="bob")
    with httpx.Client(base_url=app_url) as client:
        answer = client.get("/api/me", headers=bearer(tokens["id_token"]))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_session_refreshes_when_the_access_token_expires(short_sb: Sandbox) -> None:
    with example_app(short_sb, refresh_margin=1) as base_url, browser(base_url) as http:
        sign_in(http)
        before = short_sb.request_count("POST", "/v1/auth/refresh")
        assert http.get("/profile").status_code == 200
        assert short_sb.request_count("POST", "/v1/auth/refresh") == before
        short_sb.advance_clock(5)
        assert http.get("/profile").status_code == 200
        assert short_sb.request_count("POST", "/v1/auth/refresh") == before + 1
        # The new token lives 2 more seconds: no second refresh right away.
        assert http.get("/api/me", headers=API).status_code == 200
        assert short_sb.request_count("POST", "/v1/auth/refresh") == before + 1


def test_refreshed_cookie_session_is_written_back_to_the_browser(short_sb: Sandbox) -> None:
    secret = "s" * 40
    store = CookieSessionStore(secret, clock=short_sb.state.clock.now)
    settings = {"refresh_margin": 1, "session_secret": secret, "session_store": store}
    with example_app(short_sb, **settings) as base_url, browser(base_url) as http:
        sign_in(http)
        before = session_cookie(http)
        short_sb.advance_clock(5)
        page = http.get("/profile")
        assert page.status_code == 200
        assert page.headers["set-cookie"].startswith("authonomy_session=")
        assert session_cookie(http) != before
        # The next request carries the refreshed cookie and needs no new refresh.
        refreshes = short_sb.request_count("POST", "/v1/auth/refresh")
        assert http.get("/profile").status_code == 200
        assert short_sb.request_count("POST", "/v1/auth/refresh") == refreshes


def test_outage_answers_503_keeps_session_and_recovers(short_sb: Sandbox) -> None:
    with example_app(short_sb, refresh_margin=1) as base_url, browser(base_url) as http:
        sign_in(http)
        cookie = session_cookie(http)
        # Past the token's expiry and the leeway: the session cannot be used unrefreshed.
        short_sb.advance_clock(60)
        with short_sb.down():
            page = http.get("/profile")
            assert page.status_code == 503
            assert int(page.headers["retry-after"]) >= 1
            api = http.get("/api/me", headers=API)
            assert api.status_code == 503
            assert api.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
            assert "authonomy_session" in http.cookies
        assert session_cookie(http) == cookie
        assert http.get("/profile").status_code == 200


def test_short_outage_within_leeway_keeps_serving(short_sb: Sandbox) -> None:
    with example_app(short_sb, refresh_margin=1) as base_url, browser(base_url) as http:
        sign_in(http)
        short_sb.advance_clock(5)
        with short_sb.down():
            assert http.get("/profile").status_code == 200


def test_webhook_from_the_sandbox_is_listed(app_url: str, sb: Sandbox, http: httpx.Client) -> None:
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
        client.webhooks.create(
            url=f"{app_url}/webhooks/authonomy",
            events=["user.authenticated"],
            secret=WEBHOOK_SECRET,
        )
    sign_in(http)
    sb.wait_for_deliveries(lambda ds: any(d.url.startswith(app_url) and d.ok for d in ds))
    page = http.get("/webhooks")
    assert page.status_code == 200
    assert "user.authenticated" in page.text
