"""Time-bound rules, checked by advancing the sandbox clock instead of sleeping."""

from __future__ import annotations

import httpx

from authonomy_integrations.sandbox import Sandbox, hosted_login

from .helpers import callback_params, error_code, exchange, sign_in, start_login


def test_code_older_than_60_seconds_is_invalid_grant(sb: Sandbox, client: httpx.Client) -> None:
    login = start_login(client)
    with httpx.Client() as browser:
        code = callback_params(hosted_login(browser, login.authorization_url, "bob"))["code"]
    sb.advance_clock(61)
    response = exchange(client, login, code)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_GRANT"


def test_code_used_within_60_seconds_is_accepted(sb: Sandbox, client: httpx.Client) -> None:
    login = start_login(client)
    with httpx.Client() as browser:
        code = callback_params(hosted_login(browser, login.authorization_url, "bob"))["code"]
    sb.advance_clock(59)
    assert exchange(client, login, code).status_code == 200


def test_refresh_reuse_after_grace_revokes_session(sb: Sandbox, client: httpx.Client) -> None:
    _, tokens = sign_in(client)
    old = tokens["refresh_token"]
    rotated = client.post("/auth/refresh", json={"refresh_token": old}).json()["data"]
    sb.advance_clock(11)
    reuse = client.post("/auth/refresh", json={"refresh_token": old})
    assert reuse.status_code == 400
    assert error_code(reuse) == "INVALID_GRANT"
    successor = client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert error_code(successor) == "INVALID_GRANT"


def test_refresh_retry_just_inside_grace_returns_the_same_set(
    sb: Sandbox, client: httpx.Client
) -> None:
    _, tokens = sign_in(client)
    rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    sb.advance_clock(9)
    retry = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert retry.json()["data"] == rotated.json()["data"]


def test_login_link_expires_after_600_seconds(sb: Sandbox, client: httpx.Client) -> None:
    login = start_login(client)
    sb.advance_clock(601)
    page = httpx.get(login.authorization_url)
    assert page.status_code == 400
    assert "expired" in page.text


def test_max_age_exceeded_makes_the_user_pick_again(sb: Sandbox, client: httpx.Client) -> None:
    with httpx.Client() as browser:
        first = start_login(client)
        hosted_login(browser, first.authorization_url, "bob")
        sb.advance_clock(120)
        again = start_login(client, max_age=60)
        page = browser.get(again.authorization_url)
        assert page.status_code == 200
        assert 'id="pick-user"' in page.text
        fresh = start_login(client, max_age=3600)
        assert browser.get(fresh.authorization_url).status_code == 303


def test_access_token_lifetime_follows_token_ttl() -> None:
    with (
        Sandbox(token_ttl=2) as short,
        httpx.Client(
            base_url=short.api_base_url, headers={"Authorization": f"Bearer {short.api_key}"}
        ) as client,
    ):
        _, tokens = sign_in(client)
    assert tokens["expires_in"] == 2
