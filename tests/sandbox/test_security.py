"""Checks that guard the sandbox's grants and pages; each fails if its check is removed."""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode

import httpx

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.sandbox._models import ApiKey

from .helpers import RETURN_URL, api, callback_params, error_code, exchange, sign_in, start_login


def _other_application_key(sb: Sandbox) -> str:
    key = ApiKey("ak_other_app_key", "other-app", frozenset({"full"}), "app_other")
    sb.state.api_keys[key.key] = key
    return key.key


def test_code_and_refresh_token_of_another_application_are_invalid_grant(
    sb: Sandbox, client: httpx.Client
) -> None:
    with api(sb, _other_application_key(sb)) as other_app:
        login = start_login(client)
        with httpx.Client() as browser:
            code = callback_params(hosted_login(browser, login.authorization_url, "bob"))["code"]
        assert error_code(exchange(other_app, login, code)) == "INVALID_GRANT"
        _, tokens = sign_in(client)
        stolen = other_app.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert error_code(stolen) == "INVALID_GRANT"


def test_verifier_outside_rfc7636_alphabet_is_rejected_even_if_it_hashes_right(
    client: httpx.Client,
) -> None:
    verifier = "short"
    challenge = urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    response = client.post(
        "/auth/authorize",
        json={
            "customer_id": "acme-corp",
            "return_url": RETURN_URL,
            "code_challenge": challenge.decode(),
        },
    ).json()["data"]
    with httpx.Client() as browser:
        location = hosted_login(browser, response["authorization_url"], "bob")
    token = client.post(
        "/auth/token",
        json={
            "code": callback_params(location)["code"],
            "state": response["state"],
            "code_verifier": verifier,
            "return_url": RETURN_URL,
        },
    )
    assert error_code(token) == "INVALID_GRANT"


def test_suspended_customer_cannot_start_logins(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "frozen", "name": "Frozen", "status": "suspended"})
    client.post("/customers/frozen/idp", json={"type": "okta"})
    response = client.post(
        "/auth/authorize",
        json={"customer_id": "frozen", "return_url": RETURN_URL, "code_challenge": "c" * 43},
    )
    assert (response.status_code, error_code(response)) == (422, "VALIDATION_ERROR")


def test_customer_supplied_text_is_escaped_on_the_login_page(client: httpx.Client) -> None:
    client.post(
        "/customers",
        json={"id": "xss", "name": "<script>alert(1)</script>", "domains": ["xss.example"]},
    )
    client.post("/customers/xss/idp", json={"type": "generic_oidc"})
    page = httpx.get(start_login(client, "xss").authorization_url)
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_idp_session_cookie_is_http_only_and_same_site(client: httpx.Client) -> None:
    login = start_login(client)
    handle = login.authorization_url.split("code=")[1]
    response = httpx.post(
        login.authorization_url.split("?")[0] + "/select", data={"code": handle, "user": "bob"}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_logout_ends_single_sign_on(client: httpx.Client) -> None:
    with httpx.Client() as browser:
        login = start_login(client)
        code = callback_params(hosted_login(browser, login.authorization_url, "bob"))["code"]
        tokens = exchange(client, login, code).json()["data"]
        client.request("DELETE", "/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        page = browser.get(start_login(client).authorization_url)
    assert 'id="pick-user"' in page.text


def test_oversized_body_is_invalid_request(client: httpx.Client) -> None:
    response = client.post("/customers", content=b"{" + b" " * 1_100_000 + b"}")
    assert (response.status_code, error_code(response)) == (400, "INVALID_REQUEST")
