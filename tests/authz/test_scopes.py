"""``require_scopes`` in every adapter and DRF's ``RequireScopes``: every named scope must
be in the caller's access token (a bearer token's, or a session's), else 403
``INSUFFICIENT_SCOPE`` with RFC 6750's challenge for bearer callers."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations import starlette as kit_starlette
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.django import require_scopes as django_require_scopes
from authonomy_integrations.flask import require_scopes as flask_require_scopes
from authonomy_integrations.sandbox import Sandbox

from ..browsing import API, bearer
from .apps import SCOPE, Adapter
from .flows import browser, sign_in, token_with

GUARDED = ["/reports", "/reports/async"]


def _guarded(adapter: Adapter) -> list[str]:
    return [*GUARDED, "/drf/reports"] if adapter.name.startswith("django") else GUARDED


def test_bearer_token_with_the_scope_passes(adapter: Adapter, sb: Sandbox) -> None:
    token = token_with(sb, SCOPE)["access_token"]
    with adapter.serve(lambda url: sb.config(app_url=url)) as url, httpx.Client() as http:
        for path in _guarded(adapter):
            answer = http.get(url + path, headers=bearer(token))
            assert answer.status_code == 200, (path, answer.text)
            assert answer.json()["user"] == "user_bob"


def test_bearer_token_without_the_scope_gets_403_with_rfc6750_challenge(
    adapter: Adapter, sb: Sandbox
) -> None:
    token = token_with(sb)["access_token"]
    with adapter.serve(lambda url: sb.config(app_url=url)) as url, httpx.Client() as http:
        for path in _guarded(adapter):
            answer = http.get(url + path, headers=bearer(token))
            assert answer.status_code == 403, (path, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "INSUFFICIENT_SCOPE"
            assert error["details"]["missing"] == [SCOPE]
            challenge = answer.headers["www-authenticate"]
            assert challenge.startswith("Bearer ")
            assert 'error="insufficient_scope"' in challenge
            assert f'scope="{SCOPE}"' in challenge


def test_session_is_judged_by_its_access_tokens_scopes(adapter: Adapter, sb: Sandbox) -> None:
    scoped = (*sb.config().scopes, SCOPE)
    serving = adapter.serve(lambda url: sb.config(app_url=url, scopes=scoped))
    with serving as url, browser(url) as http:
        sign_in(http)
        for path in _guarded(adapter):
            answer = http.get(path, headers=API)
            assert answer.status_code == 200, (path, answer.text)
    with adapter.serve(lambda url: sb.config(app_url=url)) as url, browser(url) as http:
        sign_in(http)
        for path in _guarded(adapter):
            answer = http.get(path, headers=API)
            assert answer.status_code == 403, (path, answer.text)
            assert answer.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
            # Not a bearer caller: no bearer challenge.
            assert "www-authenticate" not in answer.headers


def test_signed_out_caller_is_treated_as_by_login_required(adapter: Adapter, sb: Sandbox) -> None:
    with adapter.serve(lambda url: sb.config(app_url=url)) as url, browser(url) as http:
        for path in _guarded(adapter):
            api = http.get(path, headers=API)
            assert api.status_code == 401, (path, api.text)
            assert api.json()["error"]["code"] == "UNAUTHENTICATED"
        page = http.get("/reports")
        assert page.status_code == 302
        assert page.headers["location"].startswith("/auth/login?next=%2Freports")


def _drf_require_scopes(*scopes: str) -> object:
    from authonomy_integrations.django.rest_framework import RequireScopes

    return RequireScopes(*scopes)


@pytest.mark.parametrize(
    "require_scopes",
    [
        kit_starlette.require_scopes,
        flask_require_scopes,
        django_require_scopes,
        _drf_require_scopes,
    ],
    ids=["starlette", "flask", "django", "drf"],
)
@pytest.mark.parametrize("scopes", [(), ("",), ("two words",), ('a"quote',)])
def test_a_guard_naming_no_valid_scope_fails_at_decoration(
    require_scopes: object, scopes: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigurationError, match="require_scopes"):
        require_scopes(*scopes)  # type: ignore[operator]
