"""What the kit answers on the web: credentials parsing, CSRF check, cookies, replies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core import web
from authonomy_integrations._core.policies import PolicyDecision
from authonomy_integrations._errors import AuthonomyUnavailableError, TokenError

PAGE = {"accept": "text/html", "sec-fetch-mode": "navigate"}
API = {"accept": "application/json", "sec-fetch-mode": "cors"}


def config(app_url: str = "https://app.example", **changes: Any) -> AuthonomyConfig:
    return AuthonomyConfig(
        api_key="ak",
        audience="app",
        app_url=app_url,
        session_secret="s" * 32,
        **changes,
    )


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        ("Basic dXNlcjpwdw==", None),
    ],
)
def test_bearer_token_is_read_from_the_authorization_header(
    header: str | None, token: str | None
) -> None:
    assert web.bearer_token(header) == token


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "bearer  "])
def test_malformed_bearer_header_is_an_invalid_token(header: str) -> None:
    with pytest.raises(TokenError):
        web.bearer_token(header)


def test_browser_navigation_is_told_apart_from_api_calls() -> None:
    assert web.is_browser_navigation("GET", PAGE)
    assert web.is_browser_navigation("GET", {"accept": "text/html,*/*"})
    assert not web.is_browser_navigation("GET", API)
    assert not web.is_browser_navigation("POST", PAGE)
    assert not web.is_browser_navigation("GET", {**PAGE, "authorization": "Bearer x"})


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"origin": "https://app.example"}, True),
        ({"origin": "https://app.example:443"}, True),
        ({"sec-fetch-site": "same-origin"}, True),
        ({"origin": "https://app.example", "sec-fetch-site": "same-origin"}, True),
        ({}, False),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://app.example"}, False),
        ({"origin": "null"}, False),
        ({"sec-fetch-site": "cross-site"}, False),
        ({"origin": "https://app.example", "sec-fetch-site": "cross-site"}, False),
        ({"sec-fetch-site": "same-site"}, False),
    ],
)
def test_logout_only_from_the_apps_own_pages(headers: dict[str, str], allowed: bool) -> None:
    assert web.logout_allowed(config(), headers) is allowed


def test_cookies_on_https_are_host_prefixed_secure_and_hidden_from_scripts() -> None:
    https = config()
    name = web.session_cookie_name(https)
    assert name == "__Host-authonomy_session"
    cookie = web.set_cookie(https, name, "v", 60)
    assert cookie.split("; ") == [
        f"{name}=v",
        "Path=/",
        "Max-Age=60",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
    ]


def test_cookies_on_local_http_are_not_secure() -> None:
    local = config("http://127.0.0.1:8000")
    assert web.session_cookie_name(local) == "authonomy_session"
    assert "Secure" not in web.set_cookie(local, "authonomy_session", "v", 60)
    assert "Max-Age=0" in web.clear_cookie(local, "authonomy_session")


def test_cookie_value_picks_one_cookie() -> None:
    header = "a=1; authonomy_session=abc; authonomy_session_old=zzz"
    assert web.cookie_value(header, "authonomy_session") == "abc"
    assert web.cookie_value(header, "missing") is None
    assert web.cookie_value("xauthonomy_session=1", "authonomy_session") is None
    assert web.cookie_value(None, "a") is None


def test_signed_out_browser_goes_to_login_and_back() -> None:
    reply = web.unauthenticated(config(), "GET", PAGE, "/admin?tab=2")
    assert reply.status == 302
    assert dict(reply.headers)["location"] == "/auth/login?next=%2Fadmin%3Ftab%3D2"


def test_signed_out_api_call_gets_401_with_challenge_and_envelope() -> None:
    reply = web.unauthenticated(config(), "GET", API, "/api/me")
    assert reply.status == 401
    assert dict(reply.headers)["www-authenticate"] == 'Bearer realm="authonomy"'
    assert json.loads(reply.body)["error"]["code"] == "UNAUTHENTICATED"


def test_invalid_token_is_401_even_for_a_browser() -> None:
    reply = web.unauthenticated(config(), "GET", PAGE, "/", TokenError('bad "sig"'))
    assert reply.status == 401
    assert 'error="invalid_token"' in dict(reply.headers)["www-authenticate"]


def test_curable_policy_failure_sends_a_browser_to_step_up() -> None:
    decision = PolicyDecision(False, "require-mfa", "MFA required", login_can_cure=True)
    reply = web.policy_denied(config(), decision, "GET", PAGE, "/admin")
    assert reply.status == 302
    assert dict(reply.headers)["location"].endswith("step_up=require-mfa")


def test_policy_failure_of_an_api_call_is_403_naming_the_policy() -> None:
    decision = PolicyDecision(False, "require-mfa", "MFA required", login_can_cure=True)
    reply = web.policy_denied(config(), decision, "GET", API, "/api")
    body = json.loads(reply.body)
    assert reply.status == 403
    assert body["error"]["code"] == "POLICY_VIOLATED"
    assert body["error"]["details"]["policy"] == "require-mfa"


def test_unavailable_is_503_with_retry_after() -> None:
    reply = web.unavailable(AuthonomyUnavailableError("down", retry_after=2.2), "GET", API)
    assert reply.status == 503
    assert dict(reply.headers)["retry-after"] == "3"


def test_a_policy_that_could_not_be_had_is_a_500_page_for_a_browser() -> None:
    reply = web.policy_unavailable("GET", PAGE)
    assert reply.status == 500
    assert reply.content_type.startswith("text/html")
    assert b"Access could not be checked" in reply.body


def test_a_policy_that_could_not_be_had_is_a_500_envelope_for_an_api_call() -> None:
    reply = web.policy_unavailable("GET", API)
    assert reply.status == 500
    assert json.loads(reply.body)["error"]["code"] == "INTERNAL_ERROR"


def test_cookie_value_matches_the_exact_name_only() -> None:
    header = "xauthonomy_session=evil; authonomy_session=good; other=1"
    assert web.cookie_value(header, "authonomy_session") == "good"
    assert web.cookie_value("other=1", "authonomy_session") is None
    assert web.cookie_value("authonomy_session=", "authonomy_session") is None


def test_asgi_cookie_header_joins_a_scopes_cookie_headers_in_order() -> None:
    class Request:
        scope = {
            "headers": [
                (b"cookie", b"a=1"),
                (b"accept", b"*/*"),
                (b"cookie", b""),
                (b"cookie", b"authonomy_session=x"),
            ]
        }

    assert web.asgi_cookie_header(Request(), "ignored") == "a=1; authonomy_session=x"
    Request.scope = {"headers": []}
    assert web.asgi_cookie_header(Request(), "ignored") is None
    # Without an ASGI scope (a WSGI request), the header the framework gave.
    assert web.asgi_cookie_header(object(), "a=1,b=2") == "a=1,b=2"
