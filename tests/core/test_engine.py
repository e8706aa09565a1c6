"""The engine's decisions, driven with a scripted Authonomy (no server, a fixed clock)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.routes import Requirement
from authonomy_integrations._core.user import AuthonomyUser
from authonomy_integrations._errors import (
    AuthonomyUnavailableError,
    LoginError,
    PolicyUnavailableError,
    TokenError,
)
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.stores import CookieSessionStore

from .tokenfactory import AUDIENCE, ISSUER, NOW, TokenFactory

API = "https://api.test.example/v1"
APP = "https://app.example"
SECRET = "s" * 40


def envelope(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data, "meta": {}})


def error(code: str, status: int) -> httpx.Response:
    body = {"success": False, "error": {"code": code, "message": code, "details": {}}}
    return httpx.Response(status, json=body)


class FakeAuthonomy:
    """Answers the kit's calls like Authonomy would; counts them; can be told to fail."""

    def __init__(self, factory: TokenFactory) -> None:
        self.factory = factory
        self.calls: Counter[str] = Counter()
        self.nonce = ""
        self.authorize_bodies: list[dict[str, Any]] = []
        self.refresh_answer: Callable[[], httpx.Response] | None = None
        self.jwks_gate: threading.Event | None = None
        self.id_token_nonce: str | None = None
        self.expires_in = 3600
        self.clock: Callable[[], float] = lambda: float(NOW)
        self.discovery: dict[str, Any] | None = None
        self.remote_conditions: Any = {"mfa_required": True}
        self.policy_fetched: threading.Event | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        self.calls[key] += 1
        if key in ("GET /.well-known/jwks.json", "GET /keys/current.json"):
            if self.jwks_gate is not None:
                self.jwks_gate.wait(5)
            return httpx.Response(200, json=self.factory.jwks())
        if key == "GET /.well-known/openid-configuration" and self.discovery is not None:
            return httpx.Response(200, json=self.discovery)
        body = json.loads(request.content) if request.content else {}
        return self._api(key, body, request)

    def _tokens(self) -> dict[str, Any]:
        nonce = self.id_token_nonce if self.id_token_nonce is not None else self.nonce
        return {
            "access_token": self.factory.access_token(exp=int(self.clock()) + self.expires_in),
            "refresh_token": f"rt_{self.calls['POST /v1/auth/refresh']}",
            "id_token": self.factory.id_token(nonce),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "openid profile",
        }

    def _api(self, key: str, body: dict[str, Any], request: httpx.Request) -> httpx.Response:
        if key == "POST /v1/auth/authorize":
            self.nonce = body["nonce"]
            self.authorize_bodies.append(body)
            url = f"{ISSUER}/authorize?code=handle"
            return envelope({"authorization_url": url, "state": f"st_{len(self.authorize_bodies)}"})
        if key == "POST /v1/auth/token":
            return envelope(self._tokens())
        if key == "POST /v1/auth/refresh":
            return self.refresh_answer() if self.refresh_answer else envelope(self._tokens())
        if key == "DELETE /v1/auth/logout":
            return envelope({"logged_out": True})
        if key == "GET /v1/policies":
            policy = {
                "id": "pol_1",
                "name": "remote-mfa",
                "description": "",
                "type": "authentication",
                "conditions": self.remote_conditions,
            }
            if self.policy_fetched is not None:
                self.policy_fetched.set()
            return httpx.Response(
                200,
                json={
                    "success": True,
                    "data": [policy],
                    "pagination": {"current_page": 1, "total_pages": 1, "total_items": 1},
                },
            )
        return error("NOT_FOUND", 404)


@pytest.fixture
def authonomy() -> FakeAuthonomy:
    return FakeAuthonomy(TokenFactory(issuer=ISSUER, audience=AUDIENCE))


def make_config(**overrides: Any) -> AuthonomyConfig:
    settings: dict[str, Any] = {
        "api_key": "ak_test",
        "api_base_url": API,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "app_url": APP,
        "session_secret": SECRET,
        "customer_id": "acme-corp",
        "max_retries": 0,
        "policies": {"local-mfa": {"mfa_required": True, "max_session_duration": 3600}},
    }
    settings.update(overrides)
    return AuthonomyConfig(**settings)


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kit(authonomy: FakeAuthonomy, clock: Clock) -> Iterator[AuthonomySync]:
    authonomy.clock = clock
    sync = AuthonomySync(
        make_config(),
        http_client=httpx.Client(transport=httpx.MockTransport(authonomy)),
        clock=clock,
    )
    yield sync
    sync.close()


def login(kit: AuthonomySync, next_path: str = "/") -> str:
    start = kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path=next_path, login_cookie=None)
    )
    state = dict(parse_qsl(urlsplit(start.redirect_url).query))
    assert state == {"code": "handle"}
    params = {"code": "c1", "state": "st_1", "iss": ISSUER}
    done = kit.run(
        kit.engine.finish_login(params, login_cookie=start.login_cookie, old_session=None)
    )
    return done.session_cookie


def test_login_sends_pkce_and_nonce_and_starts_a_session(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    cookie = login(kit)
    body = authonomy.authorize_bodies[0]
    assert body["code_challenge_method"] == "S256" and len(body["code_challenge"]) == 43
    assert body["return_url"] == f"{APP}/auth/callback"
    state = kit.authenticate_session(cookie)
    assert state.user is not None and state.user.id == "user_alice"


def test_login_rejects_id_token_with_another_nonce(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    authonomy.id_token_nonce = "someone-elses-nonce"
    with pytest.raises(LoginError, match="nonce"):
        login(kit)


def test_each_login_gets_a_new_session_id(kit: AuthonomySync) -> None:
    first = login(kit)
    start = kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    )
    params = {"code": "c2", "state": "st_2", "iss": ISSUER}
    second = kit.run(
        kit.engine.finish_login(params, login_cookie=start.login_cookie, old_session=first)
    )
    assert second.session_cookie != first
    assert kit.authenticate_session(first).user is None


def test_step_up_login_asks_for_mfa_and_a_fresh_sign_in(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    kit.run(
        kit.engine.start_login(
            customer_id="acme-corp", next_path="/", login_cookie=None, step_up="local-mfa"
        )
    )
    body = authonomy.authorize_bodies[0]
    assert body["acr_values"] == "mfa" and body["prompt"] == "login" and body["max_age"] == 0


def test_session_is_refreshed_once_when_its_token_is_due(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    cookie = login(kit)
    clock.now += 3600 - 30  # inside the 60 s refresh margin
    assert kit.authenticate_session(cookie).user is not None
    assert kit.authenticate_session(cookie).user is not None
    assert authonomy.calls["POST /v1/auth/refresh"] == 1


def test_refresh_refused_ends_the_session(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    cookie = login(kit)
    authonomy.refresh_answer = lambda: error("INVALID_GRANT", 400)
    clock.now += 3600
    state = kit.authenticate_session(cookie)
    assert state.user is None and state.clear_cookie
    authonomy.refresh_answer = None
    assert kit.authenticate_session(cookie).user is None


def test_refresh_while_authonomy_is_down_keeps_a_still_valid_session(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    cookie = login(kit)
    authonomy.refresh_answer = lambda: httpx.Response(503, text="down")
    clock.now += 3600 - 30
    assert kit.authenticate_session(cookie).user is not None


def test_refresh_while_authonomy_is_down_after_expiry_is_unavailable_not_logged_out(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    cookie = login(kit)
    authonomy.refresh_answer = lambda: httpx.Response(503, text="down")
    clock.now += 3600 + 120
    with pytest.raises(AuthonomyUnavailableError):
        kit.authenticate_session(cookie)
    authonomy.refresh_answer = None
    assert kit.authenticate_session(cookie).user is not None


def test_idle_session_ends(kit: AuthonomySync, clock: Clock) -> None:
    cookie = login(kit)
    clock.now += kit.config.session_idle_timeout + 1
    assert kit.authenticate_session(cookie).user is None


def test_logged_out_cookie_session_is_refused_even_though_the_cookie_is_self_contained(
    authonomy: FakeAuthonomy, clock: Clock
) -> None:
    config = make_config(session_store=CookieSessionStore([SECRET]))
    transport = httpx.MockTransport(authonomy)
    with httpx.Client(transport=transport) as http:
        kit = AuthonomySync(config, http_client=http, clock=clock)
        cookie = login(kit)
        kit.logout(cookie)
        assert kit.authenticate_session(cookie).user is None
    assert authonomy.calls["DELETE /v1/auth/logout"] == 1


def test_unknown_policy_is_denied(kit: AuthonomySync) -> None:
    cookie = login(kit)
    user = kit.authenticate_session(cookie).user
    decision = kit.check_policy("no-such-policy", user, "127.0.0.1")
    assert not decision.allowed and "not defined" in (decision.reason or "")


def test_remote_policy_is_fetched_once_and_evaluated(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    user = kit.authenticate_session(login(kit)).user
    first = kit.check_policy("remote-mfa", user, None)
    second = kit.check_policy("remote-mfa", user, None)
    assert not first.allowed and first.login_can_cure and second == first
    assert authonomy.calls["GET /v1/policies"] == 1


def test_policy_fetch_while_down_is_unavailable(authonomy: FakeAuthonomy, clock: Clock) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as http:
        kit = AuthonomySync(make_config(), http_client=http, clock=clock)
        with pytest.raises(AuthonomyUnavailableError):
            kit.check_policy("remote-mfa", None, None)


def test_policy_fetch_rate_limited_is_unavailable_not_a_refusal_of_the_app(
    clock: Clock,
) -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return error("RATE_LIMITED", 429)

    with httpx.Client(transport=httpx.MockTransport(limited)) as http:
        kit = AuthonomySync(make_config(max_retries=0), http_client=http, clock=clock)
        for _ in range(2):  # the fetch, then a request during the retry wait
            with pytest.raises(AuthonomyUnavailableError):
                kit.check_policy("remote-mfa", None, None)


def test_bearer_token_is_verified_once_then_served_from_cache(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    token = authonomy.factory.access_token()
    first = kit.authenticate_bearer(token)
    assert kit.engine.cached_bearer(token) is first
    assert kit.authenticate_bearer(token) is first
    assert authonomy.calls["GET /.well-known/jwks.json"] == 1


def test_id_token_is_not_accepted_as_bearer(kit: AuthonomySync, authonomy: FakeAuthonomy) -> None:
    with pytest.raises(TokenError):
        kit.authenticate_bearer(authonomy.factory.id_token("n"))


def test_cached_bearer_expires_with_the_token(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    token = authonomy.factory.access_token(exp=NOW + 100)
    kit.authenticate_bearer(token)
    clock.now += 100 + kit.config.leeway + 1
    assert kit.engine.cached_bearer(token) is None
    with pytest.raises(TokenError):
        kit.authenticate_bearer(token)


def test_concurrent_cold_key_fetches_make_one_request_threads(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    tokens = [authonomy.factory.access_token(jti=f"t{n}") for n in range(8)]
    authonomy.jwks_gate = threading.Event()
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda t=t: results.append(kit.authenticate_bearer(t).id))
        for t in tokens
    ]
    for thread in threads:
        thread.start()
    authonomy.jwks_gate.set()
    for thread in threads:
        thread.join(10)
    assert results == ["user_alice"] * 8
    assert authonomy.calls["GET /.well-known/jwks.json"] == 1


async def test_concurrent_cold_key_fetches_make_one_request_tasks(
    authonomy: FakeAuthonomy, clock: Clock
) -> None:
    started = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("jwks.json"):
            started.set()
            await asyncio.sleep(0)  # let the other tasks queue up behind the fetch
        return authonomy(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        kit = AuthonomyAsync(make_config(), http_client=http, clock=clock)
        tokens = [authonomy.factory.access_token(jti=f"t{n}") for n in range(8)]
        users = await asyncio.gather(*(kit.authenticate_bearer(t) for t in tokens))
    assert {user.id for user in users} == {"user_alice"}
    assert started.is_set()
    assert authonomy.calls["GET /.well-known/jwks.json"] == 1


@pytest.mark.parametrize("store", ["memory", "cookie"])
def test_logout_ends_a_session_that_was_just_served_from_memory(
    authonomy: FakeAuthonomy, clock: Clock, store: str
) -> None:
    extra = {"session_store": CookieSessionStore([SECRET])} if store == "cookie" else {}
    with httpx.Client(transport=httpx.MockTransport(authonomy)) as http:
        kit = AuthonomySync(make_config(**extra), http_client=http, clock=clock)
        cookie = login(kit)
        assert kit.authenticate_session(cookie).user is not None
        assert kit.engine.cached_session(cookie) is not None
        kit.logout(cookie)
        assert kit.authenticate_session(cookie).user is None


def test_a_remembered_session_is_still_refreshed_when_its_token_is_due(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    cookie = login(kit)
    assert kit.authenticate_session(cookie).user is not None
    assert kit.engine.cached_session(cookie) is not None
    clock.now += 3600 - 30
    assert kit.engine.cached_session(cookie) is None
    assert kit.authenticate_session(cookie).user is not None
    assert authonomy.calls["POST /v1/auth/refresh"] == 1


def test_a_remembered_session_still_ends_when_idle(kit: AuthonomySync, clock: Clock) -> None:
    cookie = login(kit)
    kit.authenticate_session(cookie)
    clock.now += kit.config.session_idle_timeout + 1
    assert kit.authenticate_session(cookie).user is None


def test_key_set_url_comes_from_discovery(kit: AuthonomySync, authonomy: FakeAuthonomy) -> None:
    authonomy.discovery = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/keys/current.json"}
    kit.authenticate_bearer(authonomy.factory.access_token())
    assert authonomy.calls["GET /keys/current.json"] == 1
    assert authonomy.calls["GET /.well-known/jwks.json"] == 0


@pytest.mark.parametrize(
    "discovery",
    [
        {"issuer": "https://evil.example", "jwks_uri": f"{ISSUER}/keys/current.json"},
        {"issuer": ISSUER, "jwks_uri": "http://keys.example/current.json"},
        {"issuer": ISSUER, "jwks_uri": 42},
    ],
)
def test_discovery_for_another_issuer_or_with_a_bad_key_url_is_ignored(
    kit: AuthonomySync, authonomy: FakeAuthonomy, discovery: dict[str, Any]
) -> None:
    authonomy.discovery = discovery
    kit.authenticate_bearer(authonomy.factory.access_token())
    assert authonomy.calls["GET /keys/current.json"] == 0
    assert authonomy.calls["GET /.well-known/jwks.json"] == 1


def test_stale_policy_is_served_while_a_background_fetch_renews_it(
    kit: AuthonomySync, authonomy: FakeAuthonomy, clock: Clock
) -> None:
    user = kit.authenticate_session(login(kit)).user
    assert not kit.check_policy("remote-mfa", user, None).allowed
    authonomy.remote_conditions = {"allowed_customers": ["acme-corp"]}
    authonomy.policy_fetched = threading.Event()
    clock.now += kit.config.policy_cache_ttl + 1
    stale = kit.check_policy("remote-mfa", user, None)
    assert not stale.allowed, "the last good copy answers while the new one is fetched"
    assert authonomy.policy_fetched.wait(5)
    renewed = _eventually(lambda: kit.check_policy("remote-mfa", user, None).allowed)
    assert renewed


def _eventually(check: Callable[[], bool]) -> bool:
    """``check()`` until true; the background fetch's answer lands just after its request."""
    done = threading.Event()
    for _ in range(500):
        if check():
            return True
        done.wait(0.01)
    return False


def test_malformed_policy_from_the_api_is_an_error_not_an_allow(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    authonomy.remote_conditions = "everyone"
    user = kit.authenticate_session(login(kit)).user
    # Every check until the next fetch: the same refusal, not "try again later".
    for _ in range(2):
        with pytest.raises(PolicyUnavailableError, match="malformed policy"):
            kit.check_policy("remote-mfa", user, None)


async def test_stale_policy_renews_in_a_task_on_the_event_loop(
    authonomy: FakeAuthonomy, clock: Clock
) -> None:
    authonomy.clock = clock
    fetched = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        response = authonomy(request)
        if request.url.path == "/v1/policies":
            fetched.set()
        return response

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        kit = AuthonomyAsync(make_config(), http_client=http, clock=clock)
        user = AuthonomyUser.from_claims(authonomy.factory.claims(amr=["pwd", "mfa"]))
        assert (await kit.check_policy("remote-mfa", user, None)).allowed
        fetched.clear()
        clock.now += kit.config.policy_cache_ttl + 1
        assert (await kit.check_policy("remote-mfa", user, None)).allowed
        await asyncio.wait_for(fetched.wait(), 5)
    assert authonomy.calls["GET /v1/policies"] == 2


def test_bearer_token_while_the_key_set_is_out_of_reach_is_unavailable_not_invalid(
    authonomy: FakeAuthonomy, clock: Clock
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as http:
        kit = AuthonomySync(make_config(), http_client=http, clock=clock)
        with pytest.raises(AuthonomyUnavailableError):
            kit.authenticate_bearer(authonomy.factory.access_token())


def test_key_set_outage_after_a_good_fetch_keeps_verifying_with_the_last_keys(
    authonomy: FakeAuthonomy, clock: Clock
) -> None:
    up = {"value": True}

    def flaky(request: httpx.Request) -> httpx.Response:
        if not up["value"]:
            raise httpx.ConnectError("refused", request=request)
        return authonomy(request)

    with httpx.Client(transport=httpx.MockTransport(flaky)) as http:
        kit = AuthonomySync(make_config(), http_client=http, clock=clock)
        kit.authenticate_bearer(authonomy.factory.access_token(jti="first"))
        up["value"] = False
        clock.now += 301  # past the key set's max-age: a refetch is due, and fails
        user = kit.authenticate_bearer(authonomy.factory.access_token(jti="second"))
    assert user.id == "user_alice"


def test_passes_now_answers_only_from_what_is_known(
    kit: AuthonomySync, authonomy: FakeAuthonomy
) -> None:
    routes = kit.routes
    mfa_user = AuthonomyUser.from_claims(authonomy.factory.claims(amr=["pwd", "mfa"]))
    assert routes.passes_now(Requirement.signed_in(), mfa_user, None)
    assert not routes.passes_now(Requirement.signed_in(), None, None)
    assert routes.passes_now(Requirement.groups("engineering"), mfa_user, None)
    assert not routes.passes_now(Requirement.groups("admins"), mfa_user, None)
    remote = Requirement.policy("remote-mfa")
    assert not routes.passes_now(remote, mfa_user, None), "not fetched yet: run the guard"
    assert authonomy.calls["GET /v1/policies"] == 0
    assert kit.check_policy("remote-mfa", mfa_user, None).allowed
    assert routes.passes_now(remote, mfa_user, None)
