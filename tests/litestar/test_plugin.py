"""What the Litestar plugin adds to an app that the shared suites do not see: guards at
every layer, the ``current_user`` dependency, refusals that no handler of the app's can
swallow, the user for the app's own middleware, ``request.auth``, start-up failures, and
``login_as``/``alogin_as`` with Litestar's test clients."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, Response, get
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient, TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.litestar import (
    AuthonomyPlugin,
    login_required,
    require_groups,
    require_scopes,
)
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import alogin_as, login_as
from tests.browsing import API, PAGE, bearer, mint

AnyRequest = Request[Any, Any, Any]
URL = "http://localhost"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _seen_by_own_middleware(app: ASGIApp) -> ASGIApp:
    """An app's own middleware, listed after the plugin's: it reads who is calling."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        scope["state"]["seen"] = getattr(user, "id", None)
        await app(scope, receive, send)

    return middleware


def _swallow_everything(request: AnyRequest, exc: Exception) -> Response[str]:
    return Response("swallowed", status_code=500)


def make_app(config: AuthonomyConfig, **options: Any) -> Litestar:
    @get("/me", guards=[login_required])
    async def me(request: AnyRequest) -> dict[str, Any]:
        return {"id": request.user.id, "seen": request.scope["state"].get("seen")}

    @get("/profile")
    async def profile(current_user: NamedDependency[AuthonomyUser]) -> dict[str, str]:
        return {"id": current_user.id}

    @get("/admins", guards=[require_groups("admins")])
    async def admins(request: AnyRequest) -> dict[str, str]:
        return {"id": request.user.id}

    @get("/reports", guards=[require_scopes("reports:read")])
    async def reports(request: AnyRequest) -> dict[str, Any]:
        return {"scopes": sorted(request.auth.scopes)}

    @get("/open")
    async def open_page(request: AnyRequest) -> dict[str, Any]:
        return {"authenticated": request.user.is_authenticated}

    plugin = AuthonomyPlugin(config=config)
    return Litestar(
        [me, profile, admins, reports, open_page],
        plugins=[plugin],
        middleware=[_seen_by_own_middleware],
        exception_handlers={Exception: _swallow_everything},
        logging_config=None,
        **options,
    )


def _client(app: Litestar) -> TestClient[Litestar]:
    with warnings.catch_warnings():  # Litestar warns of a host without a dot
        warnings.filterwarnings("ignore", "The base_url", UserWarning)
        client = TestClient(app, base_url=URL)
    client.follow_redirects = False
    return client


@pytest.fixture
def client(sb: Sandbox) -> Iterator[TestClient[Litestar]]:
    with _client(make_app(sb.config(app_url=URL))) as made:
        yield made


def test_signed_out_api_call_gets_the_kits_401_envelope_despite_an_app_handler_for_everything(
    client: TestClient[Litestar],
) -> None:
    refused = client.get("/me", headers=API)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/profile", headers=API).status_code == 401


def test_signed_out_browser_is_sent_to_login_and_back(client: TestClient[Litestar]) -> None:
    for path in ("/me", "/profile"):
        refused = client.get(path, headers=PAGE)
        assert refused.status_code == 302
        assert refused.headers["location"] == f"/auth/login?next=%2F{path[1:]}"


def test_bearer_caller_reaches_guarded_handlers_and_the_app_middleware_sees_it(
    client: TestClient[Litestar], sb: Sandbox
) -> None:
    token = bearer(mint(sb, scope="openid reports:read"))
    assert client.get("/me", headers=token).json() == {"id": "user_alice", "seen": "user_alice"}
    assert client.get("/profile", headers=token).json() == {"id": "user_alice"}
    assert client.get("/admins", headers=token).json() == {"id": "user_alice"}
    assert client.get("/reports", headers=token).json() == {"scopes": ["openid", "reports:read"]}
    assert client.get("/open").json() == {"authenticated": False}


def _replaces_request_auth(app: ASGIApp) -> ASGIApp:
    """An app's own middleware after the plugin's that puts its own ``request.auth``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        scope["auth"] = {"source": "the app's own"}
        await app(scope, receive, send)

    return middleware


def test_login_required_passes_no_one_once_a_middleware_replaced_request_auth(
    sb: Sandbox,
) -> None:
    @get("/me", guards=[login_required])
    async def me(request: AnyRequest) -> dict[str, str]:
        return {"id": request.user.id}

    plugin = AuthonomyPlugin(config=sb.config(app_url=URL))
    app = Litestar([me], plugins=[plugin], middleware=[_replaces_request_auth], logging_config=None)
    with _client(app) as client:
        answer = client.get("/me", headers=bearer(mint(sb)))
    # The guard cannot tell the kit set the user up: an error, never the handler.
    assert answer.status_code == 500
    assert "user_alice" not in answer.text


def test_a_user_outside_the_group_or_without_the_scope_gets_403(
    client: TestClient[Litestar], sb: Sandbox
) -> None:
    engineer = client.get("/admins", headers=bearer(mint(sb, groups=["engineering"])))
    assert engineer.status_code == 403
    assert engineer.json()["error"]["code"] == "POLICY_VIOLATED"
    unscoped = client.get("/reports", headers=bearer(mint(sb)))
    assert unscoped.status_code == 403
    assert unscoped.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
    assert 'error="insufficient_scope"' in unscoped.headers["www-authenticate"]


def test_an_invalid_bearer_token_is_refused_before_the_handler(
    client: TestClient[Litestar],
) -> None:
    refused = client.get("/open", headers=bearer("not.a.token"))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_login_as_signs_a_test_client_in_with_and_without_with(sb: Sandbox) -> None:
    app = make_app(sb.config(app_url=URL))
    with _client(app) as client:
        assert login_as(client, "alice", next_path="/me") == "/me"
        assert client.get("/me").json()["id"] == "user_alice"
    unopened = _client(app)
    assert login_as(unopened, "bob", next_path="/profile") == "/profile"
    assert unopened.get("/profile").json() == {"id": "user_bob"}
    assert unopened.get("/admins").status_code == 403


@pytest.mark.parametrize("opened", [True, False], ids=["async-with", "no-with"])
async def test_alogin_as_signs_an_async_test_client_in(sb: Sandbox, opened: bool) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The base_url", UserWarning)
        client = AsyncTestClient(make_app(sb.config(app_url=URL)), base_url=URL)
    client.follow_redirects = False
    if opened:
        async with client:
            await alogin_as(client, "alice", next_path="/me")
            assert (await client.get("/me")).json()["id"] == "user_alice"
        return
    assert await alogin_as(client, "bob", next_path="/me") == "/me"
    assert (await client.get("/profile")).json() == {"id": "user_bob"}


@pytest.mark.parametrize("field", ["app_url", "session_secret"])
def test_a_configuration_error_fails_the_apps_start_up(
    sb: Sandbox, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    values = {name: getattr(sb.config(app_url=URL), name) for name in ("issuer", "audience")}
    settings = {
        "environment": "sandbox",
        "api_key": sb.api_key,
        "api_base_url": sb.api_base_url,
        "customer_id": "acme-corp",
        "app_url": URL,
        "session_secret": "s" * 40,
        **values,
    }
    del settings[field]
    app = make_app(AuthonomyConfig(**settings))
    # Litestar's test client raises the start-up's error inside an exception group.
    with pytest.raises(BaseException) as failure, _client(app):
        pass
    errors = _leaves(failure.value)
    assert [type(error) for error in errors] == [ConfigurationError], errors
    assert f"AUTHONOMY_{field.upper()}" in str(errors[0])
    assert any(f"AUTHONOMY_{field.upper()}" in r.getMessage() for r in caplog.records)


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside exception groups, or ``error`` itself."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
