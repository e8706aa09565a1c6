"""The hosted login pages, driven like a browser without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import (
    SANDBOX_MFA_CODE,
    HostedLoginError,
    Sandbox,
    hosted_login,
)

from .helpers import Login, callback_params, exchange, start_login


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A fresh browser: its own cookie jar."""
    with httpx.Client() as http:
        yield http


def _claims(client: httpx.Client, login: Login, location: str) -> dict[str, object]:
    response = exchange(client, login, callback_params(location)["code"])
    assert response.status_code == 200, response.text
    return jwt.decode(response.json()["data"]["access_token"], options={"verify_signature": False})


def test_picker_lists_only_the_customers_users_without_javascript(
    client: httpx.Client, browser: httpx.Client
) -> None:
    page = browser.get(start_login(client).authorization_url)
    assert page.status_code == 200
    assert "alice@acme-corp.com" in page.text and "bob@acme-corp.com" in page.text
    assert "carol@globex.com" not in page.text
    assert "<script" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_success_redirects_with_code_state_and_issuer(
    sb: Sandbox, client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    params = callback_params(hosted_login(browser, login.authorization_url, "bob"))
    assert params["state"] == login.state
    assert params["iss"] == sb.issuer
    assert params["code"]


def test_enrolled_user_gets_mfa_step_and_wrong_code_shows_error(
    client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    page = browser.get(login.authorization_url)
    handle = login.authorization_url.split("code=")[1]
    mfa = browser.post(
        page.url.join("/authorize/select"), data={"code": handle, "user": "alice", "groups": ""}
    )
    assert 'id="mfa"' in mfa.text and SANDBOX_MFA_CODE in mfa.text
    wrong = browser.post(page.url.join("/authorize/mfa"), data={"code": handle, "otp": "000000"})
    assert wrong.status_code == 400
    assert "not right" in wrong.text
    right = browser.post(
        page.url.join("/authorize/mfa"), data={"code": handle, "otp": SANDBOX_MFA_CODE}
    )
    assert right.status_code == 303
    assert callback_params(right.headers["location"])["state"] == login.state


def test_hosted_login_with_wrong_mfa_code_raises(
    client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    with pytest.raises(HostedLoginError, match="not right"):
        hosted_login(browser, login.authorization_url, "alice", mfa_code="999999")


def test_too_many_wrong_mfa_codes_deny_the_login(client: httpx.Client) -> None:
    login = start_login(client)
    handle = login.authorization_url.split("code=")[1]
    with httpx.Client(base_url=login.authorization_url.split("/authorize")[0]) as browser:
        browser.post("/authorize/select", data={"code": handle, "user": "alice"})
        answers = [
            browser.post("/authorize/mfa", data={"code": handle, "otp": "1"}) for _ in range(5)
        ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 303]
    assert callback_params(answers[-1].headers["location"])["error"] == "access_denied"


def test_mfa_is_asked_when_the_app_requests_it(client: httpx.Client, browser: httpx.Client) -> None:
    login = start_login(client, acr_values="mfa")
    location = hosted_login(browser, login.authorization_url, "bob")
    assert _claims(client, login, location)["amr"] == ["pwd", "mfa"]


def test_cancel_redirects_with_access_denied_state_and_issuer(
    sb: Sandbox, client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    params = callback_params(hosted_login(browser, login.authorization_url, cancel=True))
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == login.state
    assert params["iss"] == sb.issuer
    assert "code" not in params


def test_overrides_sign_in_a_variant_of_the_user(
    client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    location = hosted_login(
        browser, login.authorization_url, "alice", groups=["auditors", "sales"], mfa=False
    )
    claims = _claims(client, login, location)
    assert claims["groups"] == ["auditors", "sales"]
    assert claims["amr"] == ["pwd"]


def test_idp_session_is_reused_for_single_sign_on(
    client: httpx.Client, browser: httpx.Client
) -> None:
    first = start_login(client)
    first_claims = _claims(client, first, hosted_login(browser, first.authorization_url, "bob"))
    second = start_login(client)
    page = browser.get(second.authorization_url)
    assert page.status_code == 303
    second_claims = _claims(client, second, page.headers["location"])
    assert second_claims["sub"] == "user_bob"
    assert second_claims["auth_time"] == first_claims["auth_time"]


def test_prompt_login_makes_the_user_pick_again(
    client: httpx.Client, browser: httpx.Client
) -> None:
    hosted_login(browser, start_login(client).authorization_url, "bob")
    login = start_login(client, prompt="login")
    page = browser.get(login.authorization_url)
    assert 'id="pick-user"' in page.text
    location = hosted_login(browser, login.authorization_url, "alice")
    assert _claims(client, login, location)["sub"] == "user_alice"


def test_step_up_over_single_sign_on_asks_only_for_mfa(
    client: httpx.Client, browser: httpx.Client
) -> None:
    hosted_login(browser, start_login(client).authorization_url, "bob")
    login = start_login(client, acr_values="mfa")
    page = browser.get(login.authorization_url)
    assert 'id="mfa"' in page.text and 'id="pick-user"' not in page.text
    location = hosted_login(browser, login.authorization_url)
    claims = _claims(client, login, location)
    assert (claims["sub"], claims["amr"]) == ("user_bob", ["pwd", "mfa"])


def test_login_link_works_only_once(client: httpx.Client, browser: httpx.Client) -> None:
    login = start_login(client)
    hosted_login(browser, login.authorization_url, "bob")
    with httpx.Client() as other_browser:
        again = other_browser.get(login.authorization_url)
    assert again.status_code == 400


def test_unknown_login_link_shows_an_error_page(sb: Sandbox, browser: httpx.Client) -> None:
    page = browser.get(f"{sb.issuer}/authorize?code=forged")
    assert page.status_code == 400
    assert "invalid" in page.text


def test_user_of_another_customer_cannot_be_picked(
    client: httpx.Client, browser: httpx.Client
) -> None:
    login = start_login(client)
    handle = login.authorization_url.split("code=")[1]
    page = browser.post(
        login.authorization_url.split("?")[0] + "/select", data={"code": handle, "user": "carol"}
    )
    assert page.status_code == 400
    with pytest.raises(HostedLoginError, match="not offered"):
        hosted_login(browser, login.authorization_url, "carol")


def test_globex_user_signs_in_through_globex(client: httpx.Client, browser: httpx.Client) -> None:
    login = start_login(client, "globex")
    claims = _claims(client, login, hosted_login(browser, login.authorization_url, "carol"))
    assert claims["customer_id"] == "globex"


def test_login_hint_puts_the_hinted_user_first(client: httpx.Client, browser: httpx.Client) -> None:
    page = browser.get(start_login(client, login_hint="bob@acme-corp.com").authorization_url)
    assert page.text.index("bob@acme-corp.com") < page.text.index("alice@acme-corp.com")


def test_return_url_query_is_kept(client: httpx.Client, browser: httpx.Client) -> None:
    login = start_login(client, return_url="http://127.0.0.1:8000/cb?tenant=acme")
    location = hosted_login(browser, login.authorization_url, "bob")
    assert location.startswith("http://127.0.0.1:8000/cb?tenant=acme&code=")
