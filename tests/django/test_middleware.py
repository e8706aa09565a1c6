"""The middleware and guards through Django's own test clients, sync and async: who the
view sees, each guard's answer, the kit's routes, settings and start-up errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient, Client
from django.test.utils import override_settings

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.django import AuthonomyImproperlyConfigured
from authonomy_integrations.django.apps import check_settings
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore
from authonomy_integrations.testing import alogin_as, login_as
from tests.browsing import API, PAGE, issue_tokens

from .helpers import (
    MIDDLEWARE,
    app_config,
    close,
    django_async_client,
    django_client,
    runtime_of,
)

POLICIES = {
    "engineers-only": {"allowed_groups": ["engineering"]},
    "admins-only": {"allowed_groups": ["admins"]},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Hour-long tokens: nothing here depends on expiry."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def config(sandbox: Sandbox) -> AuthonomyConfig:
    return app_config(sandbox, policies=POLICIES)


@pytest.fixture(scope="module")
def bob(sandbox: Sandbox) -> dict[str, str]:
    return {**API, "Authorization": f"Bearer {issue_tokens(sandbox, 'bob').access_token}"}


@pytest.fixture(scope="module")
def alice(sandbox: Sandbox) -> dict[str, str]:
    return {**API, "Authorization": f"Bearer {issue_tokens(sandbox, 'alice').access_token}"}


@pytest.fixture
def client(config: AuthonomyConfig) -> Iterator[Client]:
    client = django_client(config)
    yield client
    runtime = runtime_of(client.handler)
    assert isinstance(runtime, AuthonomySync)
    runtime.close()


@pytest.fixture
async def aclient(config: AuthonomyConfig) -> Any:
    client = django_async_client(config)
    yield client
    runtime = runtime_of(client.handler)
    assert isinstance(runtime, AuthonomyAsync)
    await runtime.aclose()


# --- who the view sees -------------------------------------------------------------


def test_signed_out_request_sees_an_unauthenticated_user_and_no_auth(client: Client) -> None:
    whoami = client.get("/whoami").json()
    assert whoami == {"authenticated": False, "id": None, "groups": [], "auth": None}


def test_bearer_user_reaches_request_user_and_request_auth(
    client: Client, bob: dict[str, str]
) -> None:
    whoami = client.get("/whoami", headers=bob).json()
    assert whoami["authenticated"] is True and whoami["id"] == "user_bob"
    assert whoami["groups"] == ["engineering"]
    assert "openid" in whoami["auth"]


async def test_async_stack_sees_the_bearer_user(aclient: AsyncClient, bob: dict[str, str]) -> None:
    whoami = (await aclient.get("/whoami", headers=bob)).json()
    assert whoami["id"] == "user_bob"
    assert isinstance(runtime_of(aclient.handler), AuthonomyAsync)


async def test_async_views_await_the_same_user_from_request_auser(
    aclient: AsyncClient, bob: dict[str, str]
) -> None:
    signed_in = (await aclient.get("/async/auser", headers=bob)).json()
    assert signed_in == {"authenticated": True, "id": "user_bob"}
    nobody = (await aclient.get("/async/auser")).json()
    assert nobody == {"authenticated": False, "id": None}


def test_malformed_authorization_header_is_refused_before_the_view(client: Client) -> None:
    response = client.get("/whoami", headers={"Authorization": "Bearer two parts"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_other_authorization_schemes_are_left_alone(client: Client) -> None:
    response = client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 200 and response.json()["authenticated"] is False


def test_unknown_session_cookie_is_cleared_and_request_served_signed_out(client: Client) -> None:
    client.cookies["authonomy_session"] = "forged-session-value"
    response = client.get("/whoami")
    assert response.status_code == 200 and response.json()["authenticated"] is False
    cleared = response.cookies["authonomy_session"]
    assert cleared.value == "" and "Max-Age=0" in cleared.OutputString()


# --- guards, sync and async views ----------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_login_required_sends_a_browser_to_login_and_back(client: Client, kind: str) -> None:
    response = client.get(f"/{kind}/login?tab=2", headers=PAGE)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=%2F{kind}%2Flogin%3Ftab%3D2"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_login_required_answers_an_api_call_with_401(client: Client, kind: str) -> None:
    response = client.get(f"/{kind}/login", headers=API)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_require_groups_refuses_users_outside_every_group(
    client: Client, bob: dict[str, str], alice: dict[str, str], kind: str
) -> None:
    refused = client.get(f"/{kind}/admins", headers=bob)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "POLICY_VIOLATED"
    assert client.get(f"/{kind}/admins", headers=alice).status_code == 200


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_guards_on_the_async_stack_answer_the_same(
    aclient: AsyncClient, bob: dict[str, str], alice: dict[str, str], kind: str
) -> None:
    assert (await aclient.get(f"/{kind}/login", headers=API)).status_code == 401
    refused = await aclient.get(f"/{kind}/admins", headers=bob)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "POLICY_VIOLATED"
    assert (await aclient.get(f"/{kind}/admins", headers=alice)).status_code == 200


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_require_policy_steps_a_browser_up_and_refuses_an_api_call(
    client: Client, kind: str
) -> None:
    login_as(client, "bob", mfa=False)
    page = client.get(f"/{kind}/mfa", headers=PAGE)
    assert page.status_code == 302
    assert page.headers["Location"] == f"/auth/login?next=%2F{kind}%2Fmfa&step_up=require-mfa"
    api = client.get(f"/{kind}/mfa", headers=API)
    assert api.status_code == 403
    assert api.json()["error"]["details"]["policy"] == "require-mfa"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_require_policy_on_the_async_stack_fetches_the_policy(
    aclient: AsyncClient, kind: str
) -> None:
    await alogin_as(aclient, "alice", mfa=True)
    assert (await aclient.get(f"/{kind}/mfa", headers=API)).status_code == 200
    await alogin_as(aclient, "bob", mfa=False)
    assert (await aclient.get(f"/{kind}/mfa", headers=API)).status_code == 403


def test_guard_without_the_middleware_says_what_to_install(config: AuthonomyConfig) -> None:
    with override_settings(MIDDLEWARE=[]):
        client = Client(raise_request_exception=True)
        with pytest.raises(RuntimeError, match="AuthonomyMiddleware is not installed"):
            client.get("/sync/login")


# --- the kit's routes ----------------------------------------------------------------


def test_login_as_signs_a_django_client_in(client: Client) -> None:
    assert client.get("/api/me").status_code == 401
    assert login_as(client, "bob", next_path="/profile") == "/profile"
    assert client.get("/api/me").json()["email"] == "bob@acme-corp.com"
    profile = client.get("/profile")
    assert profile.status_code == 200 and b"engineering" in profile.content


async def test_alogin_as_signs_a_django_async_client_in(aclient: AsyncClient) -> None:
    await alogin_as(aclient, "alice", mfa=True)
    admin = await aclient.get("/admin")
    assert admin.status_code == 200 and b"signed in with MFA" in admin.content


def test_login_as_refuses_an_async_client_with_a_pointer(config: AuthonomyConfig) -> None:
    with pytest.raises(TypeError, match="alogin_as"):
        login_as(AsyncClient(), "bob")


@pytest.mark.parametrize(("path", "method"), [("/auth/login", "post"), ("/auth/callback", "put")])
def test_login_routes_answer_only_get(client: Client, path: str, method: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


def test_logout_by_get_is_not_served(client: Client) -> None:
    assert client.get("/auth/logout").status_code == 405


def test_callback_without_a_started_login_is_a_400_page(client: Client) -> None:
    response = client.get("/auth/callback?code=x&state=y")
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert b"Sign-in failed" in response.content


def test_logout_from_the_apps_own_page_ends_the_session(client: Client) -> None:
    login_as(client, "bob")
    foreign = client.post("/auth/logout", headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert client.get("/api/me").status_code == 200
    done = client.post("/auth/logout", headers={"Origin": "http://localhost"})
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert client.get("/api/me").status_code == 401


def test_csrf_middleware_does_not_block_the_kits_logout(config: AuthonomyConfig) -> None:
    client = django_client(config, enforce_csrf_checks=True)
    try:
        login_as(client, "bob")
        done = client.post("/auth/logout", headers={"Origin": "http://localhost"})
        assert done.status_code == 303
    finally:
        close(client.handler)


# --- settings and start-up -----------------------------------------------------------


def test_each_new_client_gets_the_current_settings(sandbox: Sandbox, bob: dict[str, str]) -> None:
    with Sandbox() as other:
        here = django_client(app_config(sandbox))
        there = django_client(app_config(other))
        try:
            assert here.get("/whoami", headers=bob).json()["id"] == "user_bob"
            # The other tenant's app does not accept this tenant's token.
            assert there.get("/whoami", headers=bob).status_code == 401
        finally:
            for client in (here, there):
                close(client.handler)


def test_missing_configuration_fails_at_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AUTHONOMY_AUDIENCE", "AUTHONOMY_API_KEY", "AUTHONOMY_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    with override_settings(AUTHONOMY_CONFIG=None), pytest.raises(ImproperlyConfigured) as failure:
        Client().handler.load_middleware()
    assert isinstance(failure.value, ConfigurationError)
    assert failure.value.field == "audience"


def test_configuration_of_the_wrong_type_is_refused_at_start_up() -> None:
    with (
        override_settings(AUTHONOMY_CONFIG={"audience": "app"}),
        pytest.raises(AuthonomyImproperlyConfigured, match="must be an AuthonomyConfig"),
    ):
        Client().handler.load_middleware()


def test_a_clock_that_is_not_callable_is_refused_at_start_up(config: AuthonomyConfig) -> None:
    with (
        override_settings(AUTHONOMY_CONFIG=config, AUTHONOMY_CLOCK=1700000000),
        pytest.raises(AuthonomyImproperlyConfigured) as failure,
    ):
        Client().handler.load_middleware()
    assert failure.value.field == "AUTHONOMY_CLOCK"


def test_a_store_object_already_serving_another_app_is_refused_at_start_up(
    config: AuthonomyConfig,
) -> None:
    store = CookieSessionStore("a-session-secret-of-both-apps-0123456789")
    first = django_client(config.replace(session_store=store))
    try:
        other = config.replace(session_store=store, audience="app_other")
        with (
            override_settings(AUTHONOMY_CONFIG=other),
            pytest.raises(AuthonomyImproperlyConfigured) as failure,
        ):
            Client().handler.load_middleware()
        assert failure.value.field == "session_store"
    finally:
        close(first.handler)


def test_configuration_from_the_environment_when_the_setting_is_absent(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, bob: dict[str, str]
) -> None:
    monkeypatch.setenv("AUTHONOMY_ENVIRONMENT", "sandbox")
    monkeypatch.setenv("AUTHONOMY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("AUTHONOMY_API_BASE_URL", sandbox.api_base_url)
    monkeypatch.setenv("AUTHONOMY_ISSUER", sandbox.issuer)
    monkeypatch.setenv("AUTHONOMY_AUDIENCE", sandbox.audience)
    monkeypatch.setenv("AUTHONOMY_APP_URL", "http://localhost")
    monkeypatch.setenv("AUTHONOMY_SESSION_SECRET", "s" * 32)
    with override_settings(AUTHONOMY_CONFIG=None):
        client = Client()
        client.handler.load_middleware()
    try:
        assert client.get("/whoami", headers=bob).json()["id"] == "user_bob"
    finally:
        close(client.handler)


def test_system_checks_report_configuration_and_middleware_order(config: AuthonomyConfig) -> None:
    with override_settings(AUTHONOMY_CONFIG=config):
        assert check_settings() == []
    with override_settings(AUTHONOMY_CONFIG="nope"):
        assert [m.id for m in check_settings()] == ["authonomy.E001"]
    with override_settings(AUTHONOMY_CONFIG=config, MIDDLEWARE=MIDDLEWARE[:-1]):
        assert [m.id for m in check_settings()] == ["authonomy.W001"]
    with override_settings(AUTHONOMY_CONFIG="nope"):
        errors = checks.run_checks()
    assert any(m.id == "authonomy.E001" for m in errors)


# --- with django.contrib.auth --------------------------------------------------------

WITH_DJANGO_AUTH = {
    "INSTALLED_APPS": [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "authonomy_integrations.django",
        "rest_framework",
    ],
    "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
    "MIDDLEWARE": [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "authonomy_integrations.django.AuthonomyMiddleware",
    ],
}


def test_with_django_auth_installed_first_request_user_is_the_authonomy_user(
    config: AuthonomyConfig, bob: dict[str, str]
) -> None:
    with override_settings(**WITH_DJANGO_AUTH):
        client = django_client(config)
        try:
            assert client.get("/whoami", headers=bob).json()["id"] == "user_bob"
            assert client.get("/whoami").json()["authenticated"] is False
            assert client.get("/sync/login", headers=API).status_code == 401
        finally:
            close(client.handler)
    with override_settings(**WITH_DJANGO_AUTH, AUTHONOMY_CONFIG=config):
        assert check_settings() == []


def _auth_after_ours() -> dict[str, Any]:
    """``WITH_DJANGO_AUTH`` with Django's AuthenticationMiddleware after the kit's, and
    without the kit's optional app (its checks are not what catches it)."""
    wrong_order = [*WITH_DJANGO_AUTH["MIDDLEWARE"]]
    wrong_order[2], wrong_order[3] = wrong_order[3], wrong_order[2]
    apps = [app for app in WITH_DJANGO_AUTH["INSTALLED_APPS"] if "authonomy" not in app]
    return {**WITH_DJANGO_AUTH, "MIDDLEWARE": wrong_order, "INSTALLED_APPS": apps}


@pytest.mark.parametrize("is_async", [False, True], ids=["wsgi", "asgi"])
def test_django_auth_middleware_after_ours_stops_the_app_at_start_up(
    config: AuthonomyConfig, is_async: bool
) -> None:
    # Listed after ours, it would replace request.user with Django's user: the guards
    # would pass and views would fail on it ("'EmptyManager' object is not iterable").
    with (
        override_settings(**_auth_after_ours(), AUTHONOMY_CONFIG=config),
        pytest.raises(ImproperlyConfigured) as failure,
    ):
        Client().handler.load_middleware(is_async=is_async)
    message = str(failure.value)
    assert message.startswith("MIDDLEWARE: django.contrib.auth.middleware.Authentication")
    assert "list AuthonomyMiddleware after it" in message


def test_system_checks_report_django_auth_middleware_after_ours(config: AuthonomyConfig) -> None:
    with override_settings(**_auth_after_ours(), AUTHONOMY_CONFIG=config):
        assert [m.id for m in check_settings()] == ["authonomy.E002"]


def test_manage_py_check_reports_a_missing_session_secret(config: AuthonomyConfig) -> None:
    # What `manage.py check` runs for the app (registered with Django's checks: see above).
    with override_settings(AUTHONOMY_CONFIG=config.replace(session_secret=None)):
        [error] = check_settings()
    assert error.id == "authonomy.E001"
    assert "session_secret (AUTHONOMY_SESSION_SECRET): is required" in error.msg


def test_one_async_client_works_from_one_event_loop_after_another(
    config: AuthonomyConfig, sandbox: Sandbox
) -> None:
    # Tests without an async plugin call asyncio.run per step: each is a new event loop,
    # and the middleware's HTTP connections must not belong to the first one.
    client = django_async_client(config)
    asyncio.run(alogin_as(client, "alice", mfa=True))
    lookups = sandbox.request_count("GET", "/v1/policies")
    admin = asyncio.run(client.get("/admin"))  # the policy is fetched on this loop
    assert admin.status_code == 200 and b"signed in with MFA" in admin.content
    assert sandbox.request_count("GET", "/v1/policies") == lookups + 1
    me = asyncio.run(client.get("/api/me"))
    assert me.status_code == 200 and me.json()["id"] == "user_alice"
    runtime = runtime_of(client.handler)
    assert isinstance(runtime, AuthonomyAsync)
    asyncio.run(runtime.aclose())


async def test_cookies_split_over_two_headers_reach_the_session_on_asgi(aclient: Any) -> None:
    # Django's ASGI request joins repeated headers with ",", which would run the session
    # cookie into the next one; the kit reads the scope's Cookie headers, joined by "; ".
    await alogin_as(aclient, "bob")
    session = aclient.cookies["authonomy_session"].value
    aclient.cookies.clear()
    aclient.cookies["theme"] = "dark"  # sent as a Cookie header of its own
    split = {**API, "Cookie": f"authonomy_session={session}"}
    whoami = (await aclient.get("/whoami", headers=split)).json()
    assert whoami["id"] == "user_bob"
