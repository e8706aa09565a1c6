"""An app served under a URL prefix (``/shop``: ASGI's ``root_path``, WSGI's
``SCRIPT_NAME``) keeps the kit's routes where the framework routes (its sign-in routes
and its webhook route answer under the prefix), and every URL the kit builds for the
browser carries the prefix, in every adapter: a whole sign-in works, and a return target
must stay inside the app."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test.utils import override_settings

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.webhooks import sign

from ..adapters import adapter_named
from .apps import Adapter
from .flows import browser

PREFIX = "/shop"


def _delivery(secret: str) -> tuple[dict[str, str], bytes]:
    event_id = "evt_prefixed"
    body = json.dumps(
        {
            "id": event_id,
            "type": "user.logged_out",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"user": {"id": "user_bob"}, "session": {"id": "ses_prefixed"}},
        }
    ).encode()
    headers = sign(secret, event_id, int(time.time()), body)
    return {**headers, "content-type": "application/json"}, body


def test_the_login_route_answers_under_the_prefix(adapter: Adapter, sb: Sandbox) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now) as url, browser(url) as http:
        answer = http.get(f"{PREFIX}/auth/login")
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(sb.issuer)


def test_the_webhook_route_answers_under_the_prefix_whatever_authorization_comes_with_it(
    adapter: Adapter, sb: Sandbox
) -> None:
    seen: list[Any] = []

    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now, seen) as url:
        with browser(url) as http:
            headers, body = _delivery(sb.webhook_secret)
            stray = {**headers, "authorization": "Bearer not-a-token"}
            answer = http.post(f"{PREFIX}/webhooks/authonomy", content=body, headers=stray)
        assert answer.status_code < 300, answer.text
        assert [event.id for event in seen] == ["evt_prefixed"]


# --- every URL the kit builds for the browser carries the prefix --------------------------


def _sign_in_under_prefix(http: Any, url: str, next_path: str) -> Any:
    """A whole sign-in started at ``/shop/auth/login?next=next_path``; the callback's
    answer (its ``Location`` is where the browser lands)."""
    start = http.get(f"{PREFIX}/auth/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    callback = hosted_login(http, start.headers["location"], user="bob")
    assert callback.startswith(f"{url}{PREFIX}/auth/callback?"), callback
    return http.get(callback)


def test_a_full_sign_in_and_out_under_the_prefix(adapter: Adapter, sb: Sandbox) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now) as url, browser(url) as http:
        guarded = http.get(f"{PREFIX}/orders", params={"page": "2"})
        assert guarded.status_code == 302, guarded.text
        login = guarded.headers["location"]
        assert login == f"{PREFIX}/auth/login?next=%2Fshop%2Forders%3Fpage%3D2"
        landed = http.get(login)
        assert landed.status_code == 302, landed.text
        callback = hosted_login(http, landed.headers["location"], user="bob")
        assert callback.startswith(f"{url}{PREFIX}/auth/callback?"), callback
        back = http.get(callback)
        assert back.status_code == 302, back.text
        assert back.headers["location"] == f"{PREFIX}/orders?page=2"
        assert http.get(f"{PREFIX}/whoami").json()["user"] == "user_bob"
        out = http.post(f"{PREFIX}/auth/logout", headers={"origin": url})
        assert out.status_code == 303, out.text
        assert out.headers["location"] == f"{PREFIX}/"
        assert http.get(f"{PREFIX}/whoami").json()["user"] is None


@pytest.mark.parametrize(
    "next_path",
    ["/admin", "//evil.example/shop/", "/shop/../admin", "/shop/%2e%2e/admin", "/shopping"],
    ids=["outside", "other-site", "dot-segments", "encoded-dots", "longer-name"],
)
def test_a_return_target_outside_the_prefix_lands_on_the_apps_root(
    adapter: Adapter, sb: Sandbox, next_path: str
) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now) as url, browser(url) as http:
        back = _sign_in_under_prefix(http, url, next_path)
        assert back.status_code == 302, back.text
        assert back.headers["location"] == f"{PREFIX}/"


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_django_force_script_name_behind_a_proxy_that_strips_the_prefix(
    sb: Sandbox, asgi: bool
) -> None:
    adapter = adapter_named("django-asgi" if asgi else "django-wsgi")

    def config(url: str) -> Any:
        return sb.config(app_url=url)

    # Read by Django on every request: the setting holds while the app is served.
    with (
        override_settings(FORCE_SCRIPT_NAME=PREFIX),
        adapter.serve(config, sb.state.clock.now) as url,
        browser(url) as http,
    ):
        guarded = http.get("/orders")
        assert guarded.status_code == 302, guarded.text
        assert guarded.headers["location"] == f"{PREFIX}/auth/login?next=%2Fshop%2Forders"
        start = http.get("/auth/login", params={"next": f"{PREFIX}/orders"})
        callback = hosted_login(http, start.headers["location"], user="bob")
        assert callback.startswith(f"{url}{PREFIX}/auth/callback?"), callback
        back = http.get(callback.replace(f"{url}{PREFIX}", url))  # the proxy strips it
        assert back.headers["location"] == f"{PREFIX}/orders"
