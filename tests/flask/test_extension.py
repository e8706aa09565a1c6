"""The Flask extension through Flask's test client: setup, guards on sync and async views,
current_user, login and callback errors, webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.flask import (
    Authonomy,
    current_user,
    login_required,
    require_groups,
    require_policy,
)
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.webhooks import WebhookEvent, sign

from ..browsing import API, PAGE, issue_tokens

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Hour-long tokens: nothing here depends on expiry."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def bob(sandbox: Sandbox) -> dict[str, str]:
    return {**API, "Authorization": f"Bearer {issue_tokens(sandbox, 'bob').access_token}"}


@pytest.fixture(scope="module")
def alice(sandbox: Sandbox) -> dict[str, str]:
    return {**API, "Authorization": f"Bearer {issue_tokens(sandbox, 'alice').access_token}"}


def _config(sandbox: Sandbox, **overrides: Any) -> AuthonomyConfig:
    policies = {
        "engineers-only": {"allowed_groups": ["engineering"]},
        "admins-only": {"allowed_groups": ["admins"]},
    }
    return sandbox.config(policies=policies, **overrides)


def _views(app: Flask) -> None:
    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return {"authenticated": current_user.is_authenticated, "id": current_user.id}

    @app.get("/sync/me")
    @login_required
    def sync_me() -> dict[str, Any]:
        return {"email": current_user.email}

    @app.get("/async/me")
    @login_required
    async def async_me() -> dict[str, Any]:
        return {"email": current_user.email}

    @app.get("/sync/admins")
    @require_groups("admins", "owners")
    def sync_admins() -> dict[str, Any]:
        return {"groups": sorted(current_user.groups)}

    @app.get("/async/admins")
    @require_groups("admins", "owners")
    async def async_admins() -> dict[str, Any]:
        return {"groups": sorted(current_user.groups)}

    @app.get("/sync/policy/<name>")
    @require_policy("engineers-only")
    def sync_engineers(name: str) -> dict[str, Any]:
        return {"name": name}

    @app.get("/async/admins-policy")
    @require_policy("admins-only")
    async def async_admins_policy() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/undefined-policy")
    @require_policy("no-such-policy")
    def undefined_policy() -> dict[str, Any]:
        return {"ok": True}


@pytest.fixture
def installed() -> Iterator[list[Flask]]:
    """Apps given to the test; their runtimes are closed afterwards."""
    apps: list[Flask] = []
    yield apps
    for app in apps:
        if "authonomy" in app.extensions:
            app.extensions["authonomy"].close()


@pytest.fixture
def app(sandbox: Sandbox, installed: list[Flask]) -> Flask:
    app = Flask(__name__)
    Authonomy(app, config=_config(sandbox))
    _views(app)
    installed.append(app)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- setup ---------------------------------------------------------------------------


def test_app_config_keys_configure_the_extension(sandbox: Sandbox, installed: list[Flask]) -> None:
    app = Flask(__name__)
    app.config.update(
        AUTHONOMY_API_KEY=sandbox.api_key,
        AUTHONOMY_ENVIRONMENT="sandbox",
        AUTHONOMY_API_BASE_URL=sandbox.api_base_url,
        AUTHONOMY_ISSUER=sandbox.issuer,
        AUTHONOMY_AUDIENCE=sandbox.audience,
        AUTHONOMY_APP_URL="http://127.0.0.1:5000",
        AUTHONOMY_SESSION_SECRET="s" * 40,
        AUTHONOMY_CUSTOMER_ID="acme-corp",
        AUTHONOMY_LOGIN_PATH="/signin",
    )
    Authonomy(app)
    installed.append(app)
    client = app.test_client()
    start = client.get("/signin?next=/")
    assert start.status_code == 302
    assert start.headers["Location"].startswith(f"{sandbox.issuer}/authorize?")
    assert client.get("/auth/login").status_code == 404


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"AUTHONOMY_AUDIENCE": ""}, "audience"),
        ({"AUTHONOMY_APP_URL": "ftp://example.com"}, "app_url"),
        ({"AUTHONOMY_SESSION_MAX_AGE": "a week"}, "session_max_age"),
        ({"AUTHONOMY_SESSION_SECRET": "short"}, "session_secret"),
    ],
)
def test_bad_app_config_fails_at_init_app_naming_the_field(
    values: dict[str, str], field: str
) -> None:
    app = Flask(__name__)
    app.config.update({"AUTHONOMY_AUDIENCE": "app_x", **values})
    authonomy = Authonomy()
    with pytest.raises(ConfigurationError) as failure:
        authonomy.init_app(app)
    assert failure.value.field == field
    assert str(failure.value).startswith(f"{field} (AUTHONOMY_{field.upper()}):")
    assert "authonomy" not in app.extensions


def test_one_extension_object_serves_several_apps(sandbox: Sandbox, installed: list[Flask]) -> None:
    authonomy = Authonomy(config=_config(sandbox))
    apps = [Flask("first"), Flask("second")]
    for app in apps:
        authonomy.init_app(app)
        _views(app)
        installed.append(app)
    assert apps[0].extensions["authonomy"] is not apps[1].extensions["authonomy"]
    for app in apps:
        assert app.test_client().get("/auth/login").status_code == 302
        assert app.test_client().get("/sync/me", headers=API).status_code == 401


# --- guards --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_login_required_sends_a_browser_to_login_and_back(client: FlaskClient, kind: str) -> None:
    response = client.get(f"/{kind}/me?tab=2", headers=PAGE)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=%2F{kind}%2Fme%3Ftab%3D2"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_login_required_answers_an_api_call_with_401(client: FlaskClient, kind: str) -> None:
    response = client.get(f"/{kind}/me", headers=API)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json == {
        "success": False,
        "error": {"code": "UNAUTHENTICATED", "message": "Authentication required", "details": {}},
    }


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_login_required_lets_a_bearer_user_in(
    client: FlaskClient, bob: dict[str, str], kind: str
) -> None:
    response = client.get(f"/{kind}/me", headers=bob)
    assert response.status_code == 200
    assert response.json == {"email": "bob@acme-corp.com"}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_require_groups_refuses_users_outside_every_group(
    client: FlaskClient, bob: dict[str, str], kind: str
) -> None:
    response = client.get(f"/{kind}/admins", headers=bob)
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"]["code"] == "POLICY_VIOLATED"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_require_groups_admits_a_member_of_one_group(
    client: FlaskClient, alice: dict[str, str], kind: str
) -> None:
    response = client.get(f"/{kind}/admins", headers=alice)
    assert response.status_code == 200
    assert response.json == {"groups": ["admins", "engineering"]}


def test_require_groups_without_a_group_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        require_groups()


def test_require_policy_admits_users_who_meet_it(client: FlaskClient, bob: dict[str, str]) -> None:
    response = client.get("/sync/policy/x", headers=bob)
    assert response.status_code == 200 and response.json == {"name": "x"}


def test_require_policy_on_async_view_refuses_users_who_fail_it(
    client: FlaskClient, bob: dict[str, str], alice: dict[str, str]
) -> None:
    refused = client.get("/async/admins-policy", headers=bob)
    assert refused.status_code == 403
    assert refused.json is not None
    assert refused.json["error"]["details"]["policy"] == "admins-only"
    assert client.get("/async/admins-policy", headers=alice).status_code == 200


def test_require_policy_without_user_asks_for_login(client: FlaskClient) -> None:
    assert client.get("/async/admins-policy", headers=API).status_code == 401
    page = client.get("/async/admins-policy", headers=PAGE)
    assert page.headers["Location"] == "/auth/login?next=%2Fasync%2Fadmins-policy"


def test_undefined_policy_denies_everyone(client: FlaskClient, alice: dict[str, str]) -> None:
    response = client.get("/undefined-policy", headers=alice)
    assert response.status_code == 403


# --- current_user --------------------------------------------------------------------


def test_current_user_is_unauthenticated_without_credentials(client: FlaskClient) -> None:
    assert client.get("/whoami").json == {"authenticated": False, "id": None}


def test_current_user_is_the_bearer_user(client: FlaskClient, bob: dict[str, str]) -> None:
    assert client.get("/whoami", headers=bob).json == {"authenticated": True, "id": "user_bob"}


def test_malformed_authorization_header_is_refused_before_the_view(client: FlaskClient) -> None:
    response = client.get("/whoami", headers={"Authorization": "Bearer two parts"})
    assert response.status_code == 401


def test_current_user_on_an_app_without_the_extension_says_what_to_do() -> None:
    app = Flask(__name__)
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="init_app"):
        _ = current_user.is_authenticated


def test_current_user_outside_a_request_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = current_user.is_authenticated


# --- login and callback --------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "words"),
    [
        ("nobody-inc", "not found"),
        ("initech", "no identity provider"),
        ("bad customer!", "not valid"),
    ],
)
def test_login_for_a_customer_that_cannot_sign_in_shows_a_400_page(
    sandbox: Sandbox, installed: list[Flask], customer: str, words: str
) -> None:
    app = Flask(__name__)
    Authonomy(app, config=_config(sandbox, customer_id=None))  # the user picks the customer
    installed.append(app)
    response = app.test_client().get("/auth/login", query_string={"customer": customer})
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert words.lower() in response.get_data(as_text=True).lower()


def test_callback_without_a_started_login_is_refused_and_not_cached(client: FlaskClient) -> None:
    response = client.get("/auth/callback?code=abc&state=forged&iss=x")
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_callback_carried_to_another_browser_is_refused(app: Flask, sandbox: Sandbox) -> None:
    victim, attacker = app.test_client(), app.test_client()
    attacker_start = attacker.get("/auth/login")
    victim.get("/auth/login")  # the victim has a login cookie of their own
    with httpx.Client() as idp:
        callback = hosted_login(idp, attacker_start.headers["Location"], user="bob")
    path = callback.removeprefix("http://127.0.0.1:8000")
    assert victim.get(path).status_code == 400
    assert attacker.get(path).status_code == 302


def test_logout_from_the_apps_own_page_ends_the_session(
    client: FlaskClient, sandbox: Sandbox
) -> None:
    start = client.get("/auth/login", query_string={"next": "/whoami"})
    with httpx.Client() as idp:
        callback = hosted_login(idp, start.headers["Location"], user="bob")
    client.get(callback.removeprefix("http://127.0.0.1:8000"))
    assert client.get("/whoami").json == {"authenticated": True, "id": "user_bob"}
    response = client.post("/auth/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert client.get("/whoami").json == {"authenticated": False, "id": None}


# --- webhooks ------------------------------------------------------------------------


def _delivery(event_id: str, secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": event_id,
            "type": "user.authenticated",
            "timestamp": "2024-01-15T10:30:00Z",
            "data": {"user": {"id": "user_bob"}},
        }
    ).encode()
    headers = sign(secret, event_id, int(time.time()), body)
    return body, {**headers, "Content-Type": "application/json"}


@pytest.fixture
def webhook_app(sandbox: Sandbox, installed: list[Flask]) -> tuple[Flask, list[str]]:
    app = Flask(__name__)
    authonomy = Authonomy(app, config=_config(sandbox, webhook_secret=WEBHOOK_SECRET))
    installed.append(app)
    seen: list[str] = []

    @authonomy.webhooks.on("user.authenticated")
    def on_login(event: WebhookEvent) -> None:
        seen.append(event.id)

    return app, seen


def test_signed_webhook_runs_its_handler_once(webhook_app: tuple[Flask, list[str]]) -> None:
    app, seen = webhook_app
    body, headers = _delivery("evt_1")
    first = app.test_client().post("/webhooks/authonomy", data=body, headers=headers)
    again = app.test_client().post("/webhooks/authonomy", data=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert seen == ["evt_1"]


def test_webhook_signed_with_another_secret_is_refused(
    webhook_app: tuple[Flask, list[str]],
) -> None:
    app, seen = webhook_app
    body, headers = _delivery("evt_2", secret="whsec_" + "b3RoZXItb3RoZXItb3RoZXI=")
    response = app.test_client().post("/webhooks/authonomy", data=body, headers=headers)
    assert response.status_code == 400
    assert seen == []


def test_without_a_webhook_secret_there_is_no_webhook_route(
    sandbox: Sandbox, installed: list[Flask]
) -> None:
    app = Flask(__name__)
    authonomy = Authonomy(app, config=_config(sandbox, webhook_secret=None))
    installed.append(app)
    body, headers = _delivery("evt_3")
    response = app.test_client().post("/webhooks/authonomy", data=body, headers=headers)
    assert response.status_code == 404
    with pytest.raises(ConfigurationError) as failure:
        _ = authonomy.webhooks
    assert str(failure.value).startswith("webhook_secret (AUTHONOMY_WEBHOOK_SECRET): is required")


def test_one_extension_refuses_apps_with_different_webhook_secrets(sandbox: Sandbox) -> None:
    authonomy = Authonomy(config=None)
    first, second = Flask("first"), Flask("second")
    base = {
        "AUTHONOMY_AUDIENCE": sandbox.audience,
        "AUTHONOMY_ENVIRONMENT": "sandbox",
        "AUTHONOMY_LOGIN_PATH": "",  # webhooks only: no browser logins
    }
    first.config.update(base, AUTHONOMY_WEBHOOK_SECRET=WEBHOOK_SECRET)
    second.config.update(base, AUTHONOMY_WEBHOOK_SECRET="whsec_" + "b3RoZXI=")
    authonomy.init_app(first)
    try:
        with pytest.raises(ConfigurationError) as failure:
            authonomy.init_app(second)
        assert failure.value.field == "webhook_secret"
    finally:
        first.extensions["authonomy"].close()
