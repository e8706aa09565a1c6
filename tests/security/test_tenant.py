"""The app chooses the tenant: ``?customer=``, the callback, tokens and sessions."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.engine import Engine
from authonomy_integrations._errors import LoginError
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.stores import MemorySessionStore

from ..browsing import API, bearer, mint
from .apps import Adapter
from .flows import authonomy_sessions, browser, handle, start_login, whoami

PINS: dict[str, dict[str, Any]] = {
    "customer_id": {"customer_id": "acme-corp"},
    "resolver": {"customer_id": None, "customer_resolver": lambda request: "acme-corp"},
}


@pytest.mark.parametrize("pin", sorted(PINS))
def test_customer_query_cannot_override_the_apps_customer(
    adapter: Adapter, sb: Sandbox, pin: str
) -> None:
    settings = PINS[pin]
    authorizes = sb.request_count("POST", "/v1/auth/authorize")
    serving = adapter.serve(lambda url: sb.config(app_url=url, **settings), sb.state.clock.now)
    with serving as url, browser(url) as http:
        refused = http.get("/auth/login", params={"customer": "globex"})
        assert refused.status_code == 400
        assert "does not sign in users of the requested customer" in refused.text
        assert sb.request_count("POST", "/v1/auth/authorize") == authorizes
        # The app's own customer still signs in, with or without naming it.
        assert http.get("/auth/login", params={"customer": "acme-corp"}).status_code == 302
        assert http.get("/auth/login").status_code == 302


def test_allowed_customers_limit_what_the_query_may_choose(adapter: Adapter, sb: Sandbox) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url, customer_id=None, allowed_customers=["acme-corp", "initech"])

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        assert http.get("/auth/login", params={"customer": "globex"}).status_code == 400
        assert http.get("/auth/login", params={"customer": "acme-corp"}).status_code == 302
        assert http.get("/auth/login").status_code == 400  # no customer chosen


def test_callback_refuses_tokens_of_another_customer_and_revokes_them(
    adapter: Adapter, sb: Sandbox
) -> None:
    serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
    with serving as url, browser(url) as http:
        authorization_url = start_login(http)
        # Authonomy (or a compromised IdP) answers a login started for acme-corp with
        # a user of globex.
        with sb.state.lock:
            sb.state.login_requests[handle(authorization_url)].customer_id = "globex"
        before = len(authonomy_sessions(sb, "carol"))
        answer = http.get(hosted_login(http, authorization_url, user="carol"))
        assert answer.status_code == 400
        assert "another customer" in answer.text
        assert "authonomy_session" not in http.cookies
        assert whoami(http) is None
    sessions = authonomy_sessions(sb, "carol")
    assert len(sessions) == before + 1 and sessions[-1].revoked


def test_tokens_of_customers_not_allowed_are_refused(adapter: Adapter, sb: Sandbox) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url, allowed_customers="acme-corp")

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        globex = mint(sb, sub="user_carol", customer_id="globex")
        refused = http.get("/whoami", headers=bearer(globex))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert whoami(http, headers=bearer(mint(sb))) == "user_alice"
        assert http.get("/whoami", headers={**API}).status_code == 200


def test_sessions_of_customers_no_longer_allowed_are_ended(adapter: Adapter, sb: Sandbox) -> None:
    store = MemorySessionStore()
    secret = "s" * 40

    def open_app(url: str) -> Any:
        return sb.config(app_url=url, customer_id=None, session_store=store, session_secret=secret)

    def narrowed_app(url: str) -> Any:
        return open_app(url).replace(allowed_customers=("acme-corp",))

    with adapter.serve(open_app, sb.state.clock.now) as url, browser(url) as http:
        callback = hosted_login(http, start_login(http, customer="globex"), user="carol")
        assert http.get(callback).status_code == 302
        cookie = http.cookies["authonomy_session"]
        assert whoami(http) == "user_carol"
    # The app is redeployed accepting acme-corp only; carol's session must not survive.
    with adapter.serve(narrowed_app, sb.state.clock.now) as url, browser(url) as http:
        answer = http.get("/whoami", headers={"cookie": f"authonomy_session={cookie}"})
        assert answer.json()["user"] is None
        assert "authonomy_session=;" in answer.headers["set-cookie"]
        assert store.load(cookie) is None


@pytest.mark.parametrize(
    ("settings", "requested", "resolved", "expected"),
    [
        ({"customer_id": "acme-corp"}, None, None, "acme-corp"),
        ({"customer_id": "acme-corp"}, "acme-corp", None, "acme-corp"),
        ({"customer_id": "acme-corp"}, "globex", None, "customer_not_allowed"),
        ({"customer_id": "acme-corp"}, None, "globex", "globex"),  # the resolver decides
        ({}, "globex", "acme-corp", "customer_not_allowed"),
        ({}, "globex", None, "globex"),  # nothing pinned, nothing listed: any customer
        ({}, None, None, "customer_required"),
        ({"allowed_customers": ("acme-corp",)}, "globex", None, "customer_not_allowed"),
        ({"allowed_customers": ("acme-corp",)}, None, "globex", "customer_not_allowed"),
        ({"allowed_customers": ("acme-corp",)}, "acme-corp", None, "acme-corp"),
        ({}, "bad customer!", None, "invalid_customer"),
    ],
)
def test_who_chooses_the_customer(
    settings: dict[str, Any], requested: str | None, resolved: str | None, expected: str
) -> None:
    config = AuthonomyConfig(audience="app_123", **settings)
    if resolved is not None:
        config = config.replace(customer_resolver=lambda request: resolved)
    engine = Engine(config)
    try:
        assert engine.resolve_customer(requested, request=None) == expected
    except LoginError as exc:
        assert exc.error == expected
