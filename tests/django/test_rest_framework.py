"""Django REST framework views with ``AuthonomyAuthentication`` and the permission
classes, through the framework's own ``APIClient``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.django.rest_framework import RequireGroups, RequirePolicy
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as
from tests.browsing import API, PAGE, browser, issue_tokens, sign_in

from ..serving import serve
from .helpers import app_config, close, create_app, django_client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Hour-long tokens: nothing here depends on expiry."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def bob_token(sandbox: Sandbox) -> str:
    return issue_tokens(sandbox, "bob").access_token


@pytest.fixture(scope="module")
def alice_token(sandbox: Sandbox) -> str:
    return issue_tokens(sandbox, "alice").access_token


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[APIClient]:
    client = django_client(app_config(sandbox), client_class=APIClient)
    assert isinstance(client, APIClient)
    yield client
    close(client.handler)


def test_bearer_user_and_scopes_reach_the_view(client: APIClient, bob_token: str) -> None:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bob_token}")
    response = client.get("/drf/me")
    assert response.status_code == 200
    assert response.json()["id"] == "user_bob" and "openid" in response.json()["scopes"]


def test_signed_out_call_gets_401_envelope_with_challenge(client: APIClient) -> None:
    response = client.get("/drf/me")
    assert response.status_code == 401
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_signed_out_browser_also_gets_401_not_a_redirect(client: APIClient) -> None:
    response = client.get("/drf/me", headers=PAGE)
    assert response.status_code == 401 and "Location" not in response.headers
    assert b"UNAUTHENTICATED" in response.content  # the framework's browsable page


def test_bad_token_is_refused_before_the_view(client: APIClient) -> None:
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/drf/open")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_open_view_sees_no_user_without_credentials(client: APIClient) -> None:
    assert client.get("/drf/open").json() == {"authenticated": False}


def test_require_groups_refuses_outsiders_with_policy_violated(
    client: APIClient, bob_token: str, alice_token: str
) -> None:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bob_token}")
    refused = client.get("/drf/admins")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "POLICY_VIOLATED"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert client.get("/drf/admins").json() == {"id": "user_alice"}


def test_require_policy_is_fetched_and_enforced(client: APIClient) -> None:
    login_as(client, "bob", mfa=False)
    refused = client.get("/drf/mfa")
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["policy"] == "require-mfa"
    login_as(client, "alice", mfa=True)
    assert client.get("/drf/mfa").json() == {"id": "user_alice"}


def test_session_user_can_post_json(client: APIClient) -> None:
    login_as(client, "bob")
    response = client.post("/drf/me", {"note": "hello"}, format="json")
    assert response.status_code == 200 and response.json() == {"posted": {"note": "hello"}}


@pytest.fixture
def csrf_client(sandbox: Sandbox) -> Iterator[APIClient]:
    client = django_client(app_config(sandbox), client_class=APIClient, enforce_csrf_checks=True)
    assert isinstance(client, APIClient)
    yield client
    close(client.handler)


def test_session_post_without_the_csrf_token_is_refused(csrf_client: APIClient) -> None:
    login_as(csrf_client, "bob")
    response = csrf_client.post("/drf/me", {"note": "forged"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_session_post_with_the_csrf_token_is_served(csrf_client: APIClient) -> None:
    login_as(csrf_client, "bob")
    token = "k" * 32
    csrf_client.cookies["csrftoken"] = token
    response = csrf_client.post(
        "/drf/me", {"note": "mine"}, format="json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.json() == {"posted": {"note": "mine"}}


@pytest.mark.parametrize("authorization", ["", " "], ids=["empty", "blank"])
def test_session_post_with_an_empty_authorization_header_still_needs_the_csrf_token(
    csrf_client: APIClient, authorization: str
) -> None:
    # The middleware ignores an empty header and signs the caller in by the cookie, so
    # the cookie's CSRF check must run too.
    login_as(csrf_client, "bob")
    response = csrf_client.post(
        "/drf/me", {"note": "forged"}, format="json", HTTP_AUTHORIZATION=authorization
    )
    assert response.status_code in (401, 403)
    assert "posted" not in response.json()


@pytest.mark.parametrize("server", ["waitress", "uvicorn"])
def test_cookie_post_with_an_empty_authorization_header_is_refused_without_csrf_token(
    sandbox: Sandbox, server: str
) -> None:
    asgi = server == "uvicorn"
    app = serve(lambda url: create_app(app_config(sandbox, url), asgi=asgi))
    with app as live, browser(live) as bob:
        sign_in(bob, "bob")
        empty = {**API, "authorization": ""}
        forged = bob.post("/drf/me", json={"note": "forged"}, headers=empty)
        assert forged.status_code == 403, forged.text
        assert "CSRF" in forged.json()["detail"]
        assert bob.get("/drf/me", headers=empty).status_code == 200  # reads need none


def test_bearer_post_needs_no_csrf_token(csrf_client: APIClient, bob_token: str) -> None:
    csrf_client.credentials(HTTP_AUTHORIZATION=f"Bearer {bob_token}")
    response = csrf_client.post("/drf/me", {"note": "api"}, format="json")
    assert response.status_code == 200


def test_permission_arguments_are_checked_when_written() -> None:
    with pytest.raises(TypeError):
        RequirePolicy("")
    with pytest.raises((ConfigurationError, TypeError, ValueError)):
        RequireGroups()


@pytest.mark.parametrize("server", ["waitress", "uvicorn"])
@pytest.mark.parametrize("path", ["/drf/mfa", "/sync/mfa", "/async/mfa"])
def test_policy_checks_under_real_servers(sandbox: Sandbox, server: str, path: str) -> None:
    # Under uvicorn a sync view (and every framework view) runs in a worker thread while
    # the runtime lives on the server's loop: the policy fetch must cross over.
    asgi = server == "uvicorn"
    with serve(lambda url: create_app(app_config(sandbox, url), asgi=asgi)) as live:
        with browser(live) as bob:
            sign_in(bob, "bob")
            assert bob.get(path, headers=API).status_code == 403
        with browser(live) as alice:
            sign_in(alice, "alice")
            assert alice.get(path, headers=API).status_code == 200


def test_a_policy_behind_a_refused_api_key_is_a_500_envelope(
    sandbox: Sandbox, alice_token: str
) -> None:
    config = app_config(sandbox, max_retries=0, api_key="ak_test_not_a_key_of_this_app")
    client = django_client(config, client_class=APIClient)
    assert isinstance(client, APIClient)
    try:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
        for _ in range(2):
            response = client.get("/drf/mfa")
            assert response.status_code == 500
            assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    finally:
        close(client.handler)
