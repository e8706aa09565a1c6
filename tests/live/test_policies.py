"""Policies through each adapter's example app over real HTTP: a page asks for a step-up
to MFA and comes back to it; an API call that fails a policy gets a 403 envelope."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from ..browsing import API, complete, sign_in


def test_step_up_to_mfa_comes_back_to_the_page(client: httpx.Client) -> None:
    sign_in(client, "bob", "/")
    denied = client.get("/admin")
    assert denied.status_code == 302
    assert denied.headers["location"] == "/auth/login?next=%2Fadmin&step_up=require-mfa"
    step_up = urlsplit(denied.headers["location"])
    assert parse_qs(step_up.query) == {"next": ["/admin"], "step_up": ["require-mfa"]}
    start = client.get(denied.headers["location"])
    assert start.status_code == 302
    back = complete(client, start.headers["location"], "bob")
    assert back.headers["location"] == "/admin"
    admin = client.get("/admin")
    assert admin.status_code == 200 and "signed in with MFA" in admin.text


def test_user_signed_in_with_mfa_sees_the_page_at_once(client: httpx.Client) -> None:
    assert sign_in(client, "alice", "/admin").headers["location"] == "/admin"
    admin = client.get("/admin")
    assert admin.status_code == 200 and "signed in with MFA" in admin.text
    profile = client.get("/profile").text
    assert "alice@acme-corp.com" in profile
    assert "admins" in profile and "engineering" in profile


def test_api_call_failing_policy_gets_403_policy_violated(client: httpx.Client) -> None:
    sign_in(client, "bob")
    response = client.get("/admin", headers=API)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "POLICY_VIOLATED"
    assert error["details"]["policy"] == "require-mfa"
