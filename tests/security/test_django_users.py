"""Django's user protocol on ``request.user``: Django's own decorators and templates, and
third-party code written for ``django.contrib.auth`` users, read ``is_authenticated``,
``is_anonymous``, ``is_active`` and ``get_username()`` from the kit's users alike, under
WSGI and ASGI."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.urls import path

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox

from ..adapters import serve_django
from .flows import browser, sign_in

#: What a template shows of ``user``, as a third-party app's template would.
_PROFILE = Template(
    "{{ user.get_username }}|active={{ user.is_active }}|anonymous={{ user.is_anonymous }}"
    "|authenticated={{ user.is_authenticated }}"
)


def _profile(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_PROFILE.render(Context({"user": request.user})))


async def _aprofile(request: HttpRequest) -> HttpResponse:
    return _profile(request)


def _urls(config: AuthonomyConfig) -> ModuleType:
    urls = ModuleType("django_user_protocol_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("profile", _profile),
        path("django-login-required", login_required(_profile)),
        path("async-login-required", login_required(_aprofile)),
        path("active-only", user_passes_test(lambda user: user.is_active)(_profile)),
    ]
    return urls


@pytest.mark.parametrize("asgi", [False, True], ids=["django-wsgi", "django-asgi"])
def test_djangos_own_code_reads_the_signed_in_and_the_unauthenticated_user(
    sb: Sandbox, asgi: bool
) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    serving = serve_django(config, _urls, sb.state.clock.now, asgi=asgi)
    with serving as (url, _), browser(url) as http:
        assert http.get("/profile").text == "|active=False|anonymous=True|authenticated=False"
        # (Signed out, Django's decorators would redirect to django.contrib.auth's login
        # view, which this app, without django.contrib.auth, does not have.)
        assert sign_in(http, user="bob").status_code == 302
        signed_in = "user_bob|active=True|anonymous=False|authenticated=True"
        assert http.get("/profile").text == signed_in
        for guarded in ("/django-login-required", "/async-login-required", "/active-only"):
            answer = http.get(guarded)
            assert (answer.status_code, answer.text) == (200, signed_in), guarded
