"""A configuration that cannot sign anyone in fails when the app starts, not at a login.

Through every adapter (Django under WSGI and ASGI too): the error names the field and its
``AUTHONOMY_*`` variable and says how to fix it, and an API-only app (``login_path=None``)
needs neither ``app_url`` nor ``session_secret``: it serves no login routes and answers
browsers with 401.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, JsonResponse
from django.test import AsyncClient, Client
from django.test.utils import override_settings
from django.urls import path
from fastapi import FastAPI, Request
from flask import Flask
from quart import Quart
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations._runtime import AuthonomyAsync
from authonomy_integrations.django import AuthonomyImproperlyConfigured
from authonomy_integrations.django import login_required as django_login_required
from authonomy_integrations.django import require_policy as django_policy
from authonomy_integrations.flask import Authonomy, require_policy
from authonomy_integrations.flask import current_user as flask_user
from authonomy_integrations.quart import Authonomy as QuartAuthonomy
from authonomy_integrations.quart import current_user as quart_user
from authonomy_integrations.quart import require_policy as quart_policy
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware, login_required
from authonomy_integrations.starlette import require_policy as starlette_policy
from tests.browsing import PAGE, bearer, mint
from tests.django.helpers import runtime_of


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _settings(sb: Sandbox, *drop: str, **changes: Any) -> dict[str, Any]:
    values = {
        "environment": "sandbox",
        "api_key": sb.api_key,
        "api_base_url": sb.api_base_url,
        "issuer": sb.issuer,
        "audience": sb.audience,
        "customer_id": "acme-corp",
        "app_url": "http://localhost",
        "session_secret": "s" * 40,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if name not in drop}


def _fastapi(config: AuthonomyConfig) -> FastAPI:
    app = FastAPI()
    app.add_middleware(AuthonomyMiddleware, config=config)

    @app.get("/me")
    @login_required
    async def me(request: Request) -> dict[str, str]:
        return {"id": request.user.id}

    @app.get("/admin")
    @starlette_policy("require-mfa")
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    return app


def _flask(config: AuthonomyConfig) -> Flask:
    app = Flask("api_only")
    Authonomy(app, config=config)

    @app.get("/me")
    def me() -> dict[str, Any]:
        if not flask_user.is_authenticated:
            return {"id": None}
        return {"id": flask_user.id}

    @app.get("/admin")
    @require_policy("require-mfa")
    def admin() -> dict[str, bool]:
        return {"ok": True}

    return app


MISSING = ["app_url", "session_secret", "api_key"]


@pytest.mark.parametrize("field", MISSING)
def test_starlette_app_without_a_login_setting_fails_at_start_up(sb: Sandbox, field: str) -> None:
    app = _fastapi(AuthonomyConfig(**_settings(sb, field)))
    with pytest.raises(ConfigurationError) as failure, TestClient(app):
        pass  # the lifespan start builds the middleware: no request is needed
    _assert_names(failure.value, field)


@pytest.mark.parametrize("field", MISSING)
def test_starlette_app_without_lifespan_fails_before_serving_anything(
    sb: Sandbox, field: str
) -> None:
    app = _fastapi(AuthonomyConfig(**_settings(sb, field)))
    with pytest.raises(ConfigurationError) as failure:
        TestClient(app).get("/")  # the stack, with the middleware, is built first
    _assert_names(failure.value, field)


@pytest.mark.parametrize("field", MISSING)
def test_flask_app_without_a_login_setting_fails_at_init_app(sb: Sandbox, field: str) -> None:
    config = AuthonomyConfig(**_settings(sb, field))
    with pytest.raises(ConfigurationError) as failure:
        Authonomy(Flask("x"), config=config)
    _assert_names(failure.value, field)
    deferred = Authonomy(config=config)
    with pytest.raises(ConfigurationError):
        deferred.init_app(Flask("y"))


@pytest.mark.parametrize("field", MISSING)
def test_quart_app_without_a_login_setting_fails_at_init_app(sb: Sandbox, field: str) -> None:
    config = AuthonomyConfig(**_settings(sb, field))
    with pytest.raises(ConfigurationError) as failure:
        QuartAuthonomy(Quart("x"), config=config)
    _assert_names(failure.value, field)
    app = Quart("y")
    with pytest.raises(ConfigurationError):
        QuartAuthonomy(config=config).init_app(app)
    assert app.asgi_app.__self__ is app, "a failed set-up leaves the app untouched"  # type: ignore[attr-defined]


@pytest.mark.parametrize("handler", [WSGIHandler, ASGIHandler])
@pytest.mark.parametrize("field", MISSING)
def test_django_app_without_a_login_setting_fails_at_start_up(
    sb: Sandbox, field: str, handler: type[WSGIHandler | ASGIHandler]
) -> None:
    config = AuthonomyConfig(**_settings(sb, field))
    # Django makes its middleware when the WSGI or ASGI application is created.
    with override_settings(AUTHONOMY_CONFIG=config), pytest.raises(ImproperlyConfigured) as failure:
        handler()
    assert isinstance(failure.value, AuthonomyImproperlyConfigured)
    _assert_names(failure.value, field)


def test_django_settings_from_the_environment_name_the_variable(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without AUTHONOMY_CONFIG the middleware reads the AUTHONOMY_* variables itself.
    for name, value in _settings(sb, "session_secret").items():
        monkeypatch.setenv(f"AUTHONOMY_{name.upper()}", value)
    with (
        override_settings(AUTHONOMY_CONFIG=None),
        pytest.raises(AuthonomyImproperlyConfigured) as failure,
    ):
        WSGIHandler()
    _assert_names(failure.value, "session_secret")


def test_flask_app_config_without_app_url_names_the_key(sb: Sandbox) -> None:
    app = Flask("from_config")
    env = {f"AUTHONOMY_{name.upper()}": value for name, value in _settings(sb).items()}
    del env["AUTHONOMY_APP_URL"]
    app.config.update(env)
    with pytest.raises(ConfigurationError) as failure:
        Authonomy(app)
    _assert_names(failure.value, "app_url")


def test_from_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig.from_env({"AUTHONOMY_AUDIENCE": "app_x", "AUTHONOMY_LEEWAY": "soon"})
    assert str(failure.value).startswith("leeway (AUTHONOMY_LEEWAY): not a number")
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig.from_env(
            {"AUTHONOMY_AUDIENCE": "app_x", "AUTHONOMY_SESSION_SECRET": "too-short"}
        )
    assert failure.value.variable == "AUTHONOMY_SESSION_SECRET"


def _assert_names(error: ConfigurationError, field: str) -> None:
    assert error.field == field
    assert error.variable == f"AUTHONOMY_{field.upper()}"
    message = str(error)
    assert message.startswith(f"{field} (AUTHONOMY_{field.upper()}): is required")
    assert "login_path=None" in message, "the message says how an API-only app opts out"


# --- API-only apps ---------------------------------------------------------------------


def _api_only(sb: Sandbox) -> AuthonomyConfig:
    return AuthonomyConfig(**_settings(sb, "app_url", "session_secret", login_path=None))


def test_api_only_config_from_env_with_an_empty_login_path(sb: Sandbox) -> None:
    env = {f"AUTHONOMY_{k.upper()}": v for k, v in _settings(sb, "app_url").items()}
    del env["AUTHONOMY_SESSION_SECRET"]
    config = AuthonomyConfig.from_env({**env, "AUTHONOMY_LOGIN_PATH": ""})
    assert config.login_path is None
    Authonomy(Flask("env_api_only"), config=config)  # starts


def test_api_only_starlette_app_takes_bearer_tokens_and_serves_no_login(sb: Sandbox) -> None:
    with TestClient(_fastapi(_api_only(sb))) as client:
        assert client.get("/me", headers=bearer(mint(sb))).json() == {"id": "user_alice"}
        # A browser without a token gets 401: there is no login page to send it to.
        page = client.get("/me", headers=PAGE, follow_redirects=False)
        assert page.status_code == 401
        assert "location" not in page.headers
        assert client.get("/auth/login", follow_redirects=False).status_code == 404
        assert client.get("/auth/callback?code=x&state=y").status_code == 404
        # A policy a fresh login could satisfy is a plain 403, not a step-up redirect.
        no_mfa = mint(sb, amr=["pwd"])
        refused = client.get("/admin", headers={**bearer(no_mfa), **PAGE})
        assert refused.status_code == 403


def test_api_only_flask_app_takes_bearer_tokens_and_serves_no_login(sb: Sandbox) -> None:
    app = _flask(_api_only(sb))
    client = app.test_client()
    assert client.get("/me", headers=bearer(mint(sb))).get_json() == {"id": "user_alice"}
    assert client.get("/auth/login").status_code == 404
    assert client.post("/auth/logout").status_code == 404
    page = client.get("/admin", headers=PAGE)
    assert page.status_code == 401
    assert "location" not in page.headers
    refused = client.get("/admin", headers={**bearer(mint(sb, amr=["pwd"])), **PAGE})
    assert refused.status_code == 403
    app.extensions["authonomy"].close()


async def test_api_only_quart_app_takes_bearer_tokens_and_serves_no_login(sb: Sandbox) -> None:
    app = Quart("api_only")
    QuartAuthonomy(app, config=_api_only(sb))

    @app.get("/me")
    async def me() -> dict[str, Any]:
        return {"id": quart_user.id if quart_user.is_authenticated else None}

    app.get("/admin", endpoint="admin")(quart_policy("require-mfa")(me))
    client = app.test_client()
    answer = await client.get("/me", headers=bearer(mint(sb)))
    assert await answer.get_json() == {"id": "user_alice"}
    assert (await client.get("/auth/login")).status_code == 404
    assert (await client.post("/auth/logout")).status_code == 404
    page = await client.get("/admin", headers=PAGE)
    assert page.status_code == 401 and "location" not in page.headers
    refused = await client.get("/admin", headers={**bearer(mint(sb, amr=["pwd"])), **PAGE})
    assert refused.status_code == 403
    await app.extensions["authonomy"].aclose()


def _django_urls() -> ModuleType:
    """An API-only Django app's URLs: ``/me`` for anyone, ``/admin`` behind a policy."""

    def me(request: HttpRequest) -> JsonResponse:
        user: Any = request.user
        return JsonResponse({"id": user.id if user.is_authenticated else None})

    @django_login_required
    def signed_in(request: HttpRequest) -> JsonResponse:
        return me(request)

    urls = ModuleType("api_only_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("me", me),
        path("signed-in", signed_in),
        path("admin", django_policy("require-mfa")(me)),
    ]
    return urls


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
async def test_api_only_django_app_takes_bearer_tokens_and_serves_no_login(
    sb: Sandbox, asgi: bool
) -> None:
    with override_settings(AUTHONOMY_CONFIG=_api_only(sb), ROOT_URLCONF=_django_urls()):
        client: Any = AsyncClient() if asgi else Client()

        async def get(url: str, *headers: dict[str, str]) -> Any:
            answer = client.get(url, headers={k: v for h in headers for k, v in h.items()})
            return await answer if asgi else answer

        me = await get("/me", bearer(mint(sb)))
        assert me.json() == {"id": "user_alice"}
        assert (await get("/auth/login")).status_code == 404
        assert (await get("/auth/callback?code=x&state=y")).status_code == 404
        page = await get("/signed-in", PAGE)
        assert page.status_code == 401
        assert "location" not in page.headers
        refused = await get("/admin", bearer(mint(sb, amr=["pwd"])), PAGE)
        assert refused.status_code == 403
        runtime = runtime_of(client.handler)
        if isinstance(runtime, AuthonomyAsync):
            await runtime.aclose()
        else:
            runtime.close()


def test_starlette_start_up_failure_is_logged_with_its_cause(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn's default lifespan mode logs a failing start-up only as "unsupported".
    app = _fastapi(AuthonomyConfig(**_settings(sb, "session_secret")))
    with pytest.raises(ConfigurationError), TestClient(app):
        pass
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("AUTHONOMY_SESSION_SECRET" in message for message in errors), errors


class _HalfStore:
    """Loads and saves, but declares nothing else a session store must."""

    def load(self, cookie_value: str) -> None:
        return None

    def save(self, record: Any, ttl: int) -> str:
        return "x"


def test_an_object_that_is_not_a_session_store_fails_at_start_up(sb: Sandbox) -> None:
    config = AuthonomyConfig(**_settings(sb, session_store=_HalfStore()))
    with pytest.raises(ConfigurationError) as failure:
        Authonomy(Flask("half"), config=config)
    assert "session_store" in str(failure.value) and "_HalfStore" in str(failure.value)
    with pytest.raises(ConfigurationError), TestClient(_fastapi(config)):
        pass
