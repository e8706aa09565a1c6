"""Signing in through each adapter's example app over real HTTP: the callback's answer,
where the browser lands, and the attacks on the login transaction."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox, hosted_login

from ..adapters import Adapter
from ..browsing import API, browser, complete, sign_in, start_login
from .conftest import example


def test_login_callback_then_profile_shows_the_user(client: httpx.Client) -> None:
    callback = sign_in(client, "bob", "/profile")
    assert callback.status_code == 302
    assert callback.headers["location"] == "/profile"
    assert callback.headers["referrer-policy"] == "no-referrer"
    assert callback.headers["cache-control"] == "no-store"
    session = next(h for h in callback.headers.get_list("set-cookie") if "session" in h)
    assert "HttpOnly" in session and "SameSite=Lax" in session
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "Bob Brown" in profile.text and "bob@acme-corp.com" in profile.text
    assert "engineering" in profile.text
    me = client.get("/api/me", headers=API).json()
    assert me["email"] == "bob@acme-corp.com" and me["groups"] == ["engineering"]


def test_signed_out_browser_goes_to_login_and_api_call_gets_401(client: httpx.Client) -> None:
    page = client.get("/profile?tab=1")
    assert page.status_code == 302
    assert page.headers["location"] == "/auth/login?next=%2Fprofile%3Ftab%3D1"
    api = client.get("/api/me", headers=API)
    assert api.status_code == 401 and api.json()["error"]["code"] == "UNAUTHENTICATED"
    assert api.headers["www-authenticate"].startswith("Bearer")


def test_two_logins_started_in_two_tabs_both_complete(client: httpx.Client) -> None:
    first = start_login(client, next="/profile")
    second = start_login(client, next="/webhooks")
    assert complete(client, second, "bob").headers["location"] == "/webhooks"
    assert complete(client, first, "bob").headers["location"] == "/profile"
    assert client.get("/profile").status_code == 200


def test_replayed_callback_is_refused(client: httpx.Client) -> None:
    callback = hosted_login(client, start_login(client, next="/"), user="bob")
    assert client.get(callback).status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "Sign-in failed" in replay.text


def test_cancelled_login_spends_the_attempt(client: httpx.Client) -> None:
    callback = hosted_login(client, start_login(client, next="/profile"), cancel=True)
    cancelled = client.get(callback)
    assert cancelled.status_code == 403
    assert "Sign-in cancelled" in cancelled.text
    # The attempt was written back as spent: the same URL no longer matches a login.
    assert client.get(callback).status_code == 400


def test_callback_carried_to_another_browser_is_refused(client: httpx.Client, live: str) -> None:
    callback = hosted_login(client, start_login(client, next="/"), user="bob")
    with browser(live) as victim:
        assert victim.get(callback).status_code == 400
        assert "authonomy_session" not in victim.cookies
        assert victim.get("/api/me", headers=API).status_code == 401


def test_new_login_in_a_browser_ends_its_previous_session(client: httpx.Client) -> None:
    sign_in(client, "bob")
    old = dict(client.cookies.items())
    complete(client, start_login(client, next="/"), "bob")
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


def test_login_while_authonomy_is_down_answers_503(client: httpx.Client, sandbox: Sandbox) -> None:
    with sandbox.down():
        response = client.get("/auth/login", params={"next": "/"})
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1


@pytest.fixture
def open_app(adapter: Adapter, sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A browser on the example app with no pinned customer: ``?customer=`` picks it."""
    with example(adapter, sandbox, customer_id=None) as url, browser(url) as http:
        yield http


def test_login_for_unknown_customer_shows_clean_400_page(open_app: httpx.Client) -> None:
    answer = open_app.get("/auth/login", params={"customer": "no-such-customer"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "no-such-customer" in answer.text and "not found" in answer.text
    assert "Traceback" not in answer.text


def test_login_for_customer_without_idp_shows_400_page(open_app: httpx.Client) -> None:
    answer = open_app.get("/auth/login", params={"customer": "initech"})
    assert answer.status_code == 400
    assert "Sign-in failed" in answer.text


def test_login_for_a_chosen_customer_signs_in(open_app: httpx.Client) -> None:
    done = complete(open_app, start_login(open_app, customer="acme-corp", next="/profile"), "bob")
    assert done.headers["location"] == "/profile"
    assert open_app.get("/api/me", headers=API).json()["customer_id"] == "acme-corp"
