"""A caller answered from memory is still checked on every request.

The core remembers, per raw ``Authorization`` or ``Cookie`` header, what it read out of
it, so a repeat request skips parsing its headers. These scenarios run through every
adapter of the registry (:mod:`tests.adapters`), and through Starlette's
``TestClient(app)`` used without ``with`` too, each header sent several times first so
that it is remembered: expiry, logout and a second app with other rules must still refuse
it, and a remembered header must answer for itself only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, jsonify
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from authonomy_integrations import AuthEvent, AuthonomyConfig
from authonomy_integrations.flask import Authonomy, current_user
from authonomy_integrations.flask import login_required as flask_login_required
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware
from authonomy_integrations.starlette import login_required as starlette_login_required
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as

from .adapters import ADAPTERS as REGISTRY
from .adapters import Adapter, adapter_named
from .browsing import API, bearer, mint

#: Sent before the request under test: the first request verifies, the next ones are
#: answered from memory, the last ones by the remembered header.
WARM_UP = 3


@dataclass
class Clock:
    """The app's clock: the sandbox's time plus a shift the test controls."""

    sb: Sandbox
    shift: float = 0.0

    def __call__(self) -> float:
        return self.sb.state.clock.now() + self.shift


def _who(user: Any) -> dict[str, Any]:
    return {"user": user.id if user.is_authenticated else None}


def _starlette(config: AuthonomyConfig, clock: Clock) -> Starlette:
    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse(_who(request.user))

    @starlette_login_required
    async def me(request: Request) -> JSONResponse:
        return JSONResponse(_who(request.user))

    middleware = [Middleware(AuthonomyMiddleware, config=config, clock=clock)]
    return Starlette(routes=[Route("/whoami", whoami), Route("/me", me)], middleware=middleware)


def _flask(config: AuthonomyConfig, clock: Clock) -> Flask:
    app = Flask(__name__)
    Authonomy(app, config=config, clock=clock)

    @app.get("/whoami")
    def whoami() -> Any:
        return jsonify(_who(current_user))

    @app.get("/me")
    @flask_login_required
    def me() -> Any:
        return jsonify(_who(current_user))

    return app


@dataclass(frozen=True)
class Client:
    """One way of calling an app; ``status`` and ``user`` of a request.

    ``http`` keeps cookies (for signing in); ``bare`` sends only the headers given;
    ``origin`` is the app's own, as a browser on it sends with a form.
    """

    http: Any
    bare: Any
    origin: str

    def get(self, path: str, headers: Any = None) -> tuple[int, Any]:
        answer = self.bare.get(path, headers=headers)
        status = answer.status_code
        body = (answer.json if _is_flask(self.bare) else answer.json()) if status == 200 else None
        return status, body["user"] if body is not None else None

    def post(self, path: str, headers: dict[str, str]) -> int:
        status: int = self.bare.post(path, headers=headers).status_code
        return status

    def take_cookie(self) -> str:
        """The session cookie this client holds, taken out of its jar: the test sends it
        by hand from then on."""
        if _is_flask(self.http):
            value = self.http.get_cookie("authonomy_session").value
            self.http.delete_cookie("authonomy_session")
        else:
            value = self.http.cookies["authonomy_session"]
            self.http.cookies.clear()
        assert isinstance(value, str) and value
        return value


def _is_flask(http: Any) -> bool:
    return hasattr(http, "get_cookie")


Serve = Callable[[AuthonomyConfig, Clock], AbstractContextManager[Client]]


def _through(adapter: Adapter) -> Serve:
    """Calls the adapter's small test app (``/whoami`` open, ``/me`` behind
    ``login_required``) with the registry's client for it."""

    @contextmanager
    def serve(config: AuthonomyConfig, clock: Clock) -> Iterator[Client]:
        with adapter.calling(config, clock) as (http, app):
            # Werkzeug's client replaces a Cookie header with its jar's cookies: a second
            # one without a jar sends the headers as given.
            bare = app.test_client(use_cookies=False) if isinstance(app, Flask) else http
            base_url = getattr(http, "base_url", None)
            origin = str(base_url).rstrip("/") if base_url is not None else str(config.app_url)
            yield Client(http, bare, origin)

    return serve


@contextmanager
def _starlette_not_entered(config: AuthonomyConfig, clock: Clock) -> Iterator[Client]:
    """Starlette's ``TestClient(app)`` outside ``with``: each request on a new event loop."""
    app = adapter_named("starlette").small_app(config, clock, [])
    http = TestClient(app, base_url="http://localhost", follow_redirects=False)
    yield Client(http, http, "http://localhost")


#: Every adapter of the registry, and Starlette's test client used without ``with``.
ADAPTERS: dict[str, Serve] = {
    **{adapter.name: _through(adapter) for adapter in REGISTRY},
    "starlette-not-entered": _starlette_not_entered,
}


@pytest.fixture(params=sorted(ADAPTERS))
def serve(request: pytest.FixtureRequest) -> Serve:
    """How the app is made and called."""
    return ADAPTERS[request.param]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox shared by the module (its clock is never moved: the apps' clocks are)."""
    with Sandbox() as sandbox:
        yield sandbox


def _config(sb: Sandbox, **overrides: Any) -> AuthonomyConfig:
    settings: dict[str, Any] = {"app_url": "http://localhost", "session_store": None}
    settings.update(overrides)
    if settings["session_store"] is None:
        settings["session_store"] = MemorySessionStore()
    return sb.config(**settings)


def _warm(client: Client, path: str, headers: Any, expected: Any) -> None:
    for _ in range(WARM_UP):
        assert client.get(path, headers) == (200, expected)


def test_a_remembered_token_is_refused_once_it_expires(serve: Serve, sb: Sandbox) -> None:
    clock = Clock(sb)
    token = mint(sb, exp=int(clock()) + 60)
    with serve(_config(sb), clock) as client:
        _warm(client, "/whoami", bearer(token), "user_alice")
        clock.shift = 60 + 31  # past the expiry and the 30 s leeway a verification allows
        assert client.get("/whoami", bearer(token))[0] == 401
        assert client.get("/me", bearer(token))[0] == 401


def test_a_remembered_token_is_refused_once_its_session_logs_out(serve: Serve, sb: Sandbox) -> None:
    store = MemorySessionStore()
    with serve(_config(sb, session_store=store), Clock(sb)) as client:
        login_as(client.http, "bob")
        cookie = client.take_cookie()
        record = store.load(cookie)
        assert record is not None
        token = record.tokens.access_token  # as a front end holding it would send it
        _warm(client, "/me", bearer(token), "user_bob")
        logout = {"origin": client.origin, "cookie": f"authonomy_session={cookie}"}
        assert client.post("/auth/logout", logout) == 303
        assert client.get("/whoami", bearer(token))[0] == 401
        assert client.get("/me", bearer(token))[0] == 401


def test_a_remembered_session_cookie_is_refused_once_logged_out(serve: Serve, sb: Sandbox) -> None:
    with serve(_config(sb), Clock(sb)) as client:
        login_as(client.http, "bob")
        cookie = client.take_cookie()
        sent = {**API, "cookie": f"theme=dark; authonomy_session={cookie}"}
        _warm(client, "/me", sent, "user_bob")
        logout = {"origin": client.origin, "cookie": f"authonomy_session={cookie}"}
        assert client.post("/auth/logout", logout) == 303
        # The browser dropped the cookie; a copy of the old header is replayed.
        assert client.get("/whoami", sent) == (200, None)
        assert client.get("/me", sent)[0] == 401


def test_a_remembered_header_answers_for_itself_only(serve: Serve, sb: Sandbox) -> None:
    token = mint(sb)
    with serve(_config(sb), Clock(sb)) as client:
        _warm(client, "/whoami", bearer(token), "user_alice")
        header = f"Bearer {token}"
        tampered = header[:-2] + ("AA" if not header.endswith("AA") else "BB")
        assert client.get("/whoami", {**API, "authorization": tampered})[0] == 401
        assert client.get("/whoami", {**API, "authorization": header + "x"})[0] == 401
        assert client.get("/whoami", {**API, "authorization": f"Bearer {token} x"})[0] == 401
        # The remembered Authorization value sent as a cookie names nobody.
        assert client.get("/whoami", {**API, "cookie": header}) == (200, None)
        assert client.get("/me", {**API, "cookie": f"authonomy_session={token}"})[0] == 401
        # Another spelling of the scheme is still read (and then remembered) correctly.
        lower = {**API, "authorization": f"bearer {token}"}
        _warm(client, "/whoami", lower, "user_alice")


def test_two_users_whose_headers_end_alike_each_stay_themselves(serve: Serve, sb: Sandbox) -> None:
    # Headers are remembered by their last bytes; a tracking cookie after the session
    # cookie gives two users the same ending, and each must still be answered as itself.
    with serve(_config(sb), Clock(sb)) as client:
        headers = {}
        for name in ("alice", "bob"):
            login_as(client.http, name)
            tail = "; tracking=" + "t" * 64
            headers[name] = {**API, "cookie": f"authonomy_session={client.take_cookie()}{tail}"}
        for _ in range(WARM_UP):
            assert client.get("/me", headers["alice"]) == (200, "user_alice")
            assert client.get("/me", headers["bob"]) == (200, "user_bob")


def test_a_duplicated_session_cookie_is_refused_even_when_the_single_one_is_remembered(
    serve: Serve, sb: Sandbox
) -> None:
    with serve(_config(sb), Clock(sb)) as client:
        login_as(client.http, "bob")
        cookie = client.take_cookie()
        single = {**API, "cookie": f"authonomy_session={cookie}"}
        _warm(client, "/me", single, "user_bob")
        planted = {**API, "cookie": f"authonomy_session={cookie}; authonomy_session=planted"}
        assert client.get("/whoami", planted) == (200, None)
        assert client.get("/me", planted)[0] == 401


def test_two_apps_each_apply_their_own_rules_to_the_same_header(serve: Serve, sb: Sandbox) -> None:
    token = mint(sb)  # a token of acme-corp
    acme = serve(_config(sb), Clock(sb))
    globex_only = {"allowed_customers": ["globex"], "customer_id": "globex"}
    globex = serve(_config(sb, **globex_only), Clock(sb))
    with acme as first, globex as second:
        for _ in range(WARM_UP):
            assert first.get("/me", bearer(token)) == (200, "user_alice")
            assert second.get("/me", bearer(token))[0] == 401
            assert second.get("/whoami", bearer(token))[0] == 401


def test_a_flood_of_invalid_tokens_is_refused_and_leaves_nothing_remembered(
    sb: Sandbox,
) -> None:
    app = _starlette(_config(sb), Clock(sb))
    with TestClient(app, base_url="http://localhost") as http:
        for n in range(200):
            assert http.get("/whoami", headers=bearer(f"not.a.token{n}")).status_code == 401
        answer = http.get("/whoami", headers=bearer(mint(sb)))
        assert answer.json() == {"user": "user_alice"}
    indexed = _runtime_of(app).engine.bearer_cache.by_header
    assert len(indexed) == 0  # only headers of accepted tokens are kept


def test_remembered_headers_stay_bounded_under_many_distinct_valid_tokens(sb: Sandbox) -> None:
    app = _starlette(_config(sb, token_cache_size=1024), Clock(sb))
    tokens = [(n, mint(sb, sub=f"user_{n}")) for n in range(1100)]
    with TestClient(app, base_url="http://localhost") as http:
        # Verified; then the 1024 still cached are answered from memory (the rest are
        # verified again); then the last ones verified are answered from memory too.
        for order in (tokens, tokens[::-1], tokens):
            for n, token in order:
                answer = http.get("/whoami", headers=bearer(token))
                assert answer.json() == {"user": f"user_{n}"}
    assert len(_runtime_of(app).engine.bearer_cache.by_header) <= 1024


def _runtime_of(app: Starlette) -> Any:
    """The runtime of the app's middleware (built when the app first served)."""
    layer: Any = app.middleware_stack
    while not isinstance(layer, AuthonomyMiddleware):
        layer = layer.app
    return layer.runtime


def test_login_required_without_the_middleware_says_what_to_install() -> None:
    """A user put in the scope by something else is no reason to skip the check."""
    from authonomy_integrations._core.user import AuthonomyUser

    @starlette_login_required
    async def me(request: Request) -> JSONResponse:
        return JSONResponse({})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["user"] = AuthonomyUser(id="user_alice", issuer="https://elsewhere.example")
        await Starlette(routes=[Route("/me", me)])(scope, receive, send)

    with pytest.raises(RuntimeError, match="AuthonomyMiddleware is not installed"):
        TestClient(app).get("/me")


def test_flask_login_required_without_the_extension_says_what_to_set_up() -> None:
    app = Flask(__name__)
    app.testing = True  # the error reaches the test instead of becoming a 500

    @app.get("/me")
    @flask_login_required
    def me() -> str:
        return "never"

    with pytest.raises(RuntimeError, match="Authonomy is not set up"):
        app.test_client().get("/me")


def test_flask_current_user_reads_every_attribute_of_the_user(sb: Sandbox) -> None:
    app = _flask(_config(sb), Clock(sb))
    names = [
        "id",
        "issuer",
        "email",
        "name",
        "customer_id",
        "groups",
        "scopes",
        "mfa",
        "auth_time",
        "session_id",
        "claims",
        "is_authenticated",
        "display_name",
        "identity",
    ]

    @app.get("/all")
    def everything() -> Any:
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        same = all(getattr(current_user, name) == getattr(user, name) for name in names)
        with pytest.raises(AttributeError):
            current_user.no_such_attribute  # type: ignore[union-attr]  # noqa: B018
        return jsonify(same=same, name=current_user.display_name, cls=type(user).__name__)

    token = mint(sb)
    with app.test_client() as http:
        signed_in = http.get("/all", headers=bearer(token)).json
        anonymous = http.get("/all", headers=API).json
    assert signed_in == {"same": True, "name": "Alice Anderson", "cls": "AuthonomyUser"}
    assert anonymous == {"same": True, "name": "", "cls": "UnauthenticatedUser"}


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_repeated_authorization_headers_are_refused(adapter: str, sb: Sandbox) -> None:
    # Combined as RFC 9110 says (WSGI servers join them with ", "), two headers are one
    # malformed credential: neither wins, so an app reading the first (as Starlette's
    # request.headers does) never disagrees with the kit. Django's ASGI request joins
    # repeats with "," and is refused the same way.
    good = ("authorization", f"Bearer {mint(sb)}")
    bad = ("authorization", "Bearer not.a.token")
    with ADAPTERS[adapter](_config(sb), Clock(sb)) as client:
        _warm(client, "/whoami", [good], "user_alice")
        for headers in ([good, bad], [bad, good], [good, good]):
            assert client.get("/whoami", headers)[0] == 401
            assert client.get("/me", headers)[0] == 401


def test_no_credentials_at_all_is_nobody(serve: Serve, sb: Sandbox) -> None:
    with serve(_config(sb), Clock(sb)) as client:
        assert client.get("/whoami", API) == (200, None)
        assert client.get("/whoami", {**API, "authorization": ""}) == (200, None)
        assert client.get("/me", API)[0] == 401


def test_a_tokens_logger_at_debug_is_told_the_repeats_in_one_line_at_the_next_decision(
    serve: Serve, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    token = mint(sb)
    tokens_logger = logging.getLogger("authonomy_integrations.tokens")
    with serve(_config(sb), Clock(sb)) as client:
        caplog.set_level(logging.INFO, logger=tokens_logger.name)
        _warm(client, "/whoami", bearer(token), "user_alice")  # remembered by now
        caplog.clear()
        caplog.set_level(logging.DEBUG, logger=tokens_logger.name)
        for _ in range(5):
            assert client.get("/whoami", bearer(token)) == (200, "user_alice")
        assert not [r for r in caplog.records if r.name == tokens_logger.name]
        assert client.get("/whoami", bearer(mint(sb, sub="user_bob"))) == (200, "user_bob")
    lines = [r.getMessage() for r in caplog.records if r.name == tokens_logger.name]
    assert lines[0] == f"token.accepted reason=cached repeats={WARM_UP - 1 + 5}"
    assert lines[1].startswith("token.accepted user=user_bob")


def test_an_event_hook_hears_a_first_seen_token_and_a_refusal_but_no_repeat(
    serve: Serve, sb: Sandbox
) -> None:
    token = mint(sb)
    heard: list[AuthEvent] = []
    with serve(_config(sb, on_event=heard.append), Clock(sb)) as client:
        _warm(client, "/whoami", bearer(token), "user_alice")
        expired = mint(sb, exp=int(sb.state.clock.now()) - 3600, iat=None, nbf=None)
        assert client.get("/whoami", bearer(expired))[0] == 401
    assert [(e.name, e.reason) for e in heard if e.name.startswith("token.")] == [
        ("token.accepted", None),
        ("token.refused", "expired"),
    ]
