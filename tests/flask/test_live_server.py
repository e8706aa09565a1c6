"""The example app under waitress (several threads) against the sandbox, with httpx as
the browser: login, refresh, step-up, logout, bearer tokens, outages and attacks."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox
from examples.flask_app.app import create_app

from .helpers import (
    API,
    PAGE,
    LiveServer,
    bound_socket,
    browser,
    claims_of,
    complete,
    issue_tokens,
    serve,
    sign_in,
    signed_by_sandbox,
    signed_by_stranger,
)


@pytest.fixture
def live(sandbox: Sandbox) -> Iterator[LiveServer]:
    sock = bound_socket()
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # The app reads the sandbox's clock: advancing it moves both sides' time together.
    config = sandbox.config(app_url=app_url, refresh_margin=1)
    with serve(create_app(config, clock=sandbox.state.clock.now), sock) as server:
        yield server


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with browser(live.url) as http:
        yield http


def test_login_callback_then_profile_shows_the_user(client: httpx.Client) -> None:
    callback = sign_in(client, "bob", "/profile")
    assert callback.status_code == 302
    assert callback.headers["location"] == "/profile"
    assert callback.headers["referrer-policy"] == "no-referrer"
    assert callback.headers["cache-control"] == "no-store"
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "Bob Brown" in profile.text and "engineering" in profile.text
    me = client.get("/api/me", headers=API).json()
    assert me["email"] == "bob@acme-corp.com" and me["groups"] == ["engineering"]


def _refreshes(sandbox: Sandbox) -> int:
    return sandbox.request_count("POST", "/v1/auth/refresh")


def test_expired_access_token_is_refreshed_once_before_the_view(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    before = _refreshes(sandbox)
    sandbox.advance_clock(5)  # the two-second token has expired
    first = client.get("/api/me", headers=API)
    second = client.get("/api/me", headers=API)
    assert first.status_code == second.status_code == 200
    assert first.json()["email"] == "bob@acme-corp.com"
    assert _refreshes(sandbox) == before + 1


def test_twenty_concurrent_requests_of_one_session_share_one_refresh(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    cookies = dict(client.cookies.items())
    sandbox.advance_clock(5)
    before = _refreshes(sandbox)
    barrier = threading.Barrier(20)

    def call(_: int) -> int:
        with httpx.Client(base_url=str(client.base_url), cookies=cookies, timeout=30) as tab:
            barrier.wait(timeout=30)
            response = tab.get("/api/me", headers=API)
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(call, range(20)))
    assert statuses == [200] * 20
    assert _refreshes(sandbox) == before + 1


def test_step_up_to_mfa_comes_back_to_the_page(client: httpx.Client) -> None:
    sign_in(client, "bob", "/")
    denied = client.get("/admin")
    assert denied.status_code == 302
    step_up = urlsplit(denied.headers["location"])
    assert step_up.path == "/auth/login"
    assert parse_qs(step_up.query) == {"next": ["/admin"], "step_up": ["require-mfa"]}
    start = client.get(denied.headers["location"])
    back = complete(client, start.headers["location"], "bob")
    assert back.headers["location"] == "/admin"
    admin = client.get("/admin")
    assert admin.status_code == 200 and "signed in with MFA" in admin.text


def test_api_call_failing_policy_gets_403_policy_violated(client: httpx.Client) -> None:
    sign_in(client, "bob")
    response = client.get("/admin", headers=API)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "POLICY_VIOLATED"


def test_logout_ends_the_session_and_the_old_cookie_is_refused(
    client: httpx.Client, live: LiveServer, sandbox: Sandbox
) -> None:
    sign_in(client, "bob")
    old = dict(client.cookies.items())
    logouts = sandbox.request_count("DELETE", "/v1/auth/logout")
    response = client.post("/auth/logout", headers={"Origin": live.url})
    assert response.status_code == 303 and response.headers["location"] == "/signed-out"
    assert "authonomy_session=;" in response.headers["set-cookie"]
    assert sandbox.request_count("DELETE", "/v1/auth/logout") == logouts + 1
    with httpx.Client(base_url=live.url, cookies=old) as replay:
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


def test_logout_by_get_is_not_served(client: httpx.Client) -> None:
    sign_in(client, "bob")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/api/me", headers=API).status_code == 200


def test_two_logins_started_in_two_tabs_both_complete(client: httpx.Client) -> None:
    first = client.get("/auth/login", params={"next": "/profile"})
    second = client.get("/auth/login", params={"next": "/webhooks"})
    assert complete(client, second.headers["location"], "bob").headers["location"] == "/webhooks"
    assert complete(client, first.headers["location"], "bob").headers["location"] == "/profile"
    assert client.get("/profile").status_code == 200


def test_new_login_in_a_browser_ends_its_previous_session(client: httpx.Client) -> None:
    sign_in(client, "bob")
    old = dict(client.cookies.items())
    start = client.get("/auth/login", params={"next": "/"})
    complete(client, start.headers["location"], "bob")
    assert client.get("/api/me", headers=API).status_code == 200
    with httpx.Client(base_url=str(client.base_url), cookies=old) as replay:
        assert replay.get("/api/me", headers=API).status_code == 401


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example"],
)
def test_login_never_redirects_off_site(client: httpx.Client, target: str) -> None:
    callback = sign_in(client, "bob", target)
    assert callback.status_code == 302
    assert callback.headers["location"] == "/"


def test_bearer_token_authenticates_api_calls_without_a_cookie(
    live: LiveServer, sandbox: Sandbox
) -> None:
    tokens = issue_tokens(sandbox, "bob")
    with httpx.Client(base_url=live.url) as script:
        headers = {**API, "Authorization": f"Bearer {tokens.access_token}"}
        first = script.get("/api/me", headers=headers)
        again = script.get("/api/me", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["email"] == "bob@acme-corp.com"
    assert "set-cookie" not in first.headers


def _bad_token(kind: str, sandbox: Sandbox) -> str:
    tokens = issue_tokens(sandbox, "bob")
    claims = claims_of(tokens.access_token)
    if kind == "garbage":
        return "not-a-token"
    if kind == "expired":
        sandbox.advance_clock(60)  # past two seconds of life and 30 of leeway
        return tokens.access_token
    if kind == "wrong-audience":
        return signed_by_sandbox(sandbox, {**claims, "aud": "app_someone_else"})
    if kind == "wrong-issuer":
        return signed_by_sandbox(sandbox, {**claims, "iss": "http://127.0.0.1:1"})
    if kind == "foreign-signature":
        return signed_by_stranger(sandbox, claims)
    assert kind == "id-token"
    return tokens.id_token


@pytest.mark.parametrize(
    "kind",
    ["garbage", "expired", "wrong-audience", "wrong-issuer", "foreign-signature", "id-token"],
)
def test_bad_bearer_token_is_refused_with_401(
    live: LiveServer, sandbox: Sandbox, kind: str
) -> None:
    token = _bad_token(kind, sandbox)
    with httpx.Client(base_url=live.url) as script:
        # Even a page that needs no user: a bad token is refused before any view runs.
        response = script.get("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_authonomy_down_answers_503_then_recovers(client: httpx.Client, sandbox: Sandbox) -> None:
    sign_in(client, "bob")
    sandbox.advance_clock(60)  # the token is past its leeway: it must be refreshed
    with sandbox.down():
        page = client.get("/profile")
        api = client.get("/api/me", headers=API)
    assert page.status_code == api.status_code == 503
    assert int(page.headers["retry-after"]) >= 1
    assert api.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    assert "set-cookie" not in api.headers  # the session is kept for later
    assert client.get("/api/me", headers=API).json()["email"] == "bob@acme-corp.com"


def test_login_while_authonomy_is_down_answers_503(client: httpx.Client, sandbox: Sandbox) -> None:
    with sandbox.down():
        response = client.get("/auth/login", params={"next": "/"})
    assert response.status_code == 503
    assert "retry-after" in response.headers


@pytest.fixture
def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def test_example_lists_the_webhooks_authonomy_sends(sandbox: Sandbox, webhook_secret: str) -> None:
    sock = bound_socket()
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = sandbox.config(app_url=app_url, webhook_secret=webhook_secret)
    url = f"{app_url}{config.webhook_path}"
    with (
        serve(create_app(config, clock=sandbox.state.clock.now), sock) as live,
        AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as api,
        browser(live.url) as client,
    ):
        hook = api.webhooks.create(url=url, events=["user.authenticated"], secret=webhook_secret)
        try:
            sign_in(client, "bob")
            sandbox.wait_for_deliveries(lambda ds: any(d.url == url and d.ok for d in ds))
        finally:
            api.webhooks.delete(hook["id"])
        page = client.get("/webhooks")
    assert page.status_code == 200
    assert "user.authenticated" in page.text
