"""``/v1/auth/*`` over real HTTP: the login, code exchange, refresh and logout contract."""

from __future__ import annotations

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import Sandbox, hosted_login

from .helpers import (
    RETURN_URL,
    api,
    callback_params,
    error_code,
    exchange,
    pkce_pair,
    sign_in,
    start_login,
)


def _code_for(login_url: str, user: str = "bob") -> str:
    with httpx.Client() as browser:
        return callback_params(hosted_login(browser, login_url, user))["code"]


def _verify(sb: Sandbox, token: str) -> dict[str, object]:
    jwks = jwt.PyJWKSet.from_dict(httpx.get(f"{sb.issuer}/.well-known/jwks.json").json())
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=["RS256"], audience=sb.audience, issuer=sb.issuer)


def test_authorize_returns_hosted_login_url_opaque_state_and_expiry(
    sb: Sandbox, client: httpx.Client
) -> None:
    login = start_login(client)
    assert login.authorization_url.startswith(f"{sb.issuer}/authorize?code=")
    assert len(login.state) >= 32
    body = client.post(
        "/auth/authorize",
        json={"customer_id": "acme-corp", "return_url": RETURN_URL, "code_challenge": "x" * 43},
    ).json()
    assert body["data"]["expires_in"] == 600
    assert body["meta"]["timestamp"].endswith("Z")


def test_authorize_for_unknown_customer_is_invalid_customer(client: httpx.Client) -> None:
    _, challenge = pkce_pair()
    response = client.post(
        "/auth/authorize",
        json={"customer_id": "nope", "return_url": RETURN_URL, "code_challenge": challenge},
    )
    assert response.status_code == 404
    assert error_code(response) == "INVALID_CUSTOMER"
    assert response.json()["error"]["message"] == "Customer 'nope' not found"
    assert response.json()["error"]["details"] == {"customer_id": "nope"}


def test_authorize_for_customer_without_idp_is_idp_not_configured(client: httpx.Client) -> None:
    _, challenge = pkce_pair()
    response = client.post(
        "/auth/authorize",
        json={"customer_id": "initech", "return_url": RETURN_URL, "code_challenge": challenge},
    )
    assert response.status_code == 422
    assert error_code(response) == "IDP_NOT_CONFIGURED"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"return_url": RETURN_URL, "code_challenge": "c" * 43}, 400, "INVALID_REQUEST"),
        ({"customer_id": "acme-corp", "return_url": RETURN_URL}, 400, "INVALID_REQUEST"),
        (
            {"customer_id": 7, "return_url": RETURN_URL, "code_challenge": "c" * 43},
            400,
            "INVALID_REQUEST",
        ),
        (
            {"customer_id": "acme-corp", "return_url": "/relative", "code_challenge": "c" * 43},
            422,
            "VALIDATION_ERROR",
        ),
        (
            {
                "customer_id": "acme-corp",
                "return_url": RETURN_URL,
                "code_challenge": "c" * 43,
                "code_challenge_method": "plain",
            },
            422,
            "VALIDATION_ERROR",
        ),
        (
            {
                "customer_id": "acme-corp",
                "return_url": RETURN_URL,
                "code_challenge": "c" * 43,
                "scopes": "openid",
            },
            400,
            "INVALID_REQUEST",
        ),
    ],
)
def test_authorize_rejects_bad_input_with_contract_codes(
    client: httpx.Client, body: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/auth/authorize", json=body)
    assert response.status_code == status
    assert error_code(response) == code


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"'])
def test_malformed_or_non_object_body_is_invalid_request(client: httpx.Client, raw: bytes) -> None:
    response = client.post(
        "/auth/authorize", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST"


def test_token_exchange_returns_tokens_verifiable_with_published_jwks(
    sb: Sandbox, client: httpx.Client
) -> None:
    login, tokens = sign_in(client, "alice")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid profile email groups"
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"
    claims = _verify(sb, tokens["access_token"])
    assert claims["sub"] == "user_alice"
    assert claims["customer_id"] == "acme-corp"
    assert claims["email"] == "alice@acme-corp.com"
    assert claims["groups"] == ["admins", "engineering"]
    assert claims["amr"] == ["pwd", "mfa"]
    assert claims["scope"] == "openid profile email groups"
    assert claims["aud"] == claims["client_id"] == sb.audience
    assert str(claims["sid"]).startswith("sess_")
    assert {"auth_time", "iat", "nbf", "exp", "jti", "name"} <= set(claims)
    id_claims = _verify(sb, tokens["id_token"])
    assert jwt.get_unverified_header(tokens["id_token"])["typ"] == "JWT"
    assert id_claims["nonce"] == login.nonce
    assert id_claims["sid"] == claims["sid"]


def test_user_without_mfa_gets_password_only_amr(sb: Sandbox, client: httpx.Client) -> None:
    _, tokens = sign_in(client, "bob")
    assert _verify(sb, tokens["access_token"])["amr"] == ["pwd"]


def test_second_use_of_code_is_invalid_grant_and_revokes_its_refresh_tokens(
    client: httpx.Client,
) -> None:
    login = start_login(client)
    code = _code_for(login.authorization_url)
    first = exchange(client, login, code)
    assert first.status_code == 200
    second = exchange(client, login, code)
    assert second.status_code == 400
    assert error_code(second) == "INVALID_GRANT"
    refresh = client.post(
        "/auth/refresh", json={"refresh_token": first.json()["data"]["refresh_token"]}
    )
    assert error_code(refresh) == "INVALID_GRANT"


@pytest.mark.parametrize(
    "change",
    [
        {"code_verifier": pkce_pair()[0]},
        {"return_url": "http://127.0.0.1:8000/other"},
        {"state": "not-the-state"},
        {"code": "unknown-code"},
    ],
    ids=["pkce-mismatch", "return-url-mismatch", "state-mismatch", "unknown-code"],
)
def test_code_exchange_with_mismatched_binding_is_invalid_grant(
    client: httpx.Client, change: dict[str, str]
) -> None:
    login = start_login(client)
    code = _code_for(login.authorization_url)
    response = exchange(client, login, code, **change)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_GRANT"


def test_code_that_failed_its_pkce_check_cannot_be_retried(client: httpx.Client) -> None:
    login = start_login(client)
    code = _code_for(login.authorization_url)
    assert exchange(client, login, code, code_verifier=pkce_pair()[0]).status_code == 400
    assert error_code(exchange(client, login, code)) == "INVALID_GRANT"


def test_refresh_rotates_and_old_token_replays_same_set_within_grace(
    client: httpx.Client,
) -> None:
    _, tokens = sign_in(client)
    old = tokens["refresh_token"]
    rotated = client.post("/auth/refresh", json={"refresh_token": old}).json()["data"]
    assert rotated["refresh_token"] != old
    assert rotated["access_token"] != tokens["access_token"]
    replay = client.post("/auth/refresh", json={"refresh_token": old}).json()["data"]
    assert replay == rotated
    again = client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 200


def test_refresh_with_unknown_token_is_invalid_grant(client: httpx.Client) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": "rt_unknown"})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_GRANT"


def test_logout_by_refresh_token_ends_the_session(client: httpx.Client) -> None:
    _, tokens = sign_in(client)
    response = client.request(
        "DELETE", "/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.json()["data"] == {"logged_out": True}
    refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert error_code(refresh) == "INVALID_GRANT"


def test_logout_by_session_id_stops_every_refresh_token_of_the_session(
    sb: Sandbox, client: httpx.Client
) -> None:
    _, tokens = sign_in(client)
    rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    session_id = _verify(sb, tokens["access_token"])["sid"]
    response = client.request("DELETE", "/auth/logout", json={"session_id": session_id})
    assert response.json()["data"] == {"logged_out": True}
    new_token = rotated.json()["data"]["refresh_token"]
    assert error_code(client.post("/auth/refresh", json={"refresh_token": new_token})) == (
        "INVALID_GRANT"
    )


def test_logout_needs_a_token_or_a_known_session(client: httpx.Client) -> None:
    missing = client.request("DELETE", "/auth/logout", json={})
    assert (missing.status_code, error_code(missing)) == (400, "INVALID_REQUEST")
    unknown = client.request("DELETE", "/auth/logout", json={"session_id": "sess_nope"})
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "INVALID_API_KEY"),
        ("Bearer ak_sandbox_wrong", 401, "INVALID_API_KEY"),
        ("Basic abc", 401, "INVALID_API_KEY"),
    ],
)
def test_auth_endpoints_reject_missing_or_unknown_keys(
    sb: Sandbox, authorization: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{sb.api_base_url}/auth/refresh", json={}, headers=headers)
    assert response.status_code == status
    assert error_code(response) == code


def test_read_only_key_cannot_start_logins(sb: Sandbox) -> None:
    with api(sb, sb.read_only_api_key) as reader:
        _, challenge = pkce_pair()
        response = reader.post(
            "/auth/authorize",
            json={
                "customer_id": "acme-corp",
                "return_url": RETURN_URL,
                "code_challenge": challenge,
            },
        )
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"


def test_injected_fault_answers_500_internal_error_once(sb: Sandbox) -> None:
    sb.fail_next("GET", "/v1/customers")
    headers = {"Authorization": f"Bearer {sb.api_key}"}
    with httpx.Client(base_url=sb.api_base_url, headers=headers) as http:
        failed = http.get("/customers")
        recovered = http.get("/customers")
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "INTERNAL_ERROR"
    assert failed.json()["meta"]["request_id"]
    assert recovered.status_code == 200
