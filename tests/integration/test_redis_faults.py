"""Redis out of reach, crashed, restarted or frozen, under the FastAPI, Flask and Quart
example apps.

What must hold: a request with a session gets a prompt 503 with ``Retry-After`` (never a
hang, a 500 or a silent sign-out: the cookie stays), bearer tokens keep working (they
need no store), webhooks are not acknowledged while the replay store is unreachable (so
Authonomy retries them, and each runs once in the end), service comes back by itself
when Redis does, and with persistence on sessions survive a Redis restart.
"""

from __future__ import annotations

import base64
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.stores._replay import RedisReplayStore
from authonomy_integrations.testing import login_as
from authonomy_integrations.webhooks import WebhookEvent
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.quart_app.app import create_app as create_quart_app

from ..browsing import API, PAGE, bearer, mint
from ..redis_servers import RedisServer, SentinelSetup, cli
from ..serving import serve
from ..webhooks.conftest import make_delivery

#: The stores' command timeout in these tests, in seconds.
TIMEOUT = 1.0
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"redis-faults-webhook-secret-0001").decode()


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server with append-only persistence, not started yet."""
    server = RedisServer(tmp_path / "redis", appendonly=True)
    yield server
    server.stop()


@dataclass
class App:
    """One example app on a Redis it shares with nothing else, and what it saw."""

    client: Any
    config: AuthonomyConfig
    close: Callable[[], None]
    seen: Callable[[], list[str]]

    @property
    def handled(self) -> list[str]:
        """Ids of the deliveries the app's handler ran for, oldest first."""
        return self.seen()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(path, headers=headers or API, follow_redirects=False)

    def set_session_cookie(self, value: str | None) -> None:
        if isinstance(self.client, httpx.Client):  # Starlette's TestClient is one too
            self.client.cookies.clear()
            if value is not None:
                self.client.cookies.set("authonomy_session", value)
        elif value is None:
            self.client.delete_cookie("authonomy_session")
        else:
            self.client.set_cookie("authonomy_session", value)

    def deliver(self, event_id: str) -> Any:
        delivery = make_delivery(event_id=event_id, secret=WEBHOOK_SECRET)
        headers, body = delivery.headers, delivery.body
        if isinstance(self.client, httpx.Client):
            return self.client.post(self.config.webhook_path, content=body, headers=headers)
        return self.client.post(self.config.webhook_path, data=body, headers=headers)


def starlette_app(config: AuthonomyConfig) -> App:
    app = create_fastapi_app(config.replace(app_url="http://localhost"))
    events: list[WebhookEvent] = app.state.webhook_events
    client = TestClient(app).__enter__()  # one event loop for the app's whole life
    return App(
        client, config, lambda: client.__exit__(None, None, None), lambda: [e.id for e in events]
    )


def flask_app(config: AuthonomyConfig) -> App:
    app = create_flask_app(config.replace(app_url="http://localhost"))
    client = app.test_client()

    def seen() -> list[str]:
        # The example lists what its handler received, newest first.
        page = client.get("/webhooks", headers=PAGE).get_data(as_text=True)
        return list(reversed(re.findall(r"<td>(evt_[a-z0-9_]+)</td>", page)))

    return App(client, config, app.extensions["authonomy"].close, seen)


def _webhook_ids(page: str) -> list[str]:
    # The examples list what their handler received, newest first.
    return list(reversed(re.findall(r"<td>(evt_[a-z0-9_]+)</td>", page)))


def quart_app(config: AuthonomyConfig) -> App:
    """The Quart example under uvicorn (its test client is async), called over HTTP."""
    stack = ExitStack()

    def make(url: str) -> Any:
        app = create_quart_app(config.replace(app_url=url))
        # The replay store's async client is made on the server's loop: it ends there too.
        app.after_serving(config.replay_store.aclose)
        return app

    url = stack.enter_context(serve(make))
    client = stack.enter_context(httpx.Client(base_url=url, timeout=30))

    def seen() -> list[str]:
        return _webhook_ids(client.get("/webhooks", headers=PAGE).text)

    return App(client, config, stack.close, seen)


MAKERS = {"starlette": starlette_app, "flask": flask_app, "quart": quart_app}


@pytest.fixture(params=sorted(MAKERS))
def make_app(
    request: pytest.FixtureRequest, sb: Sandbox, redis_server: RedisServer
) -> Iterator[Callable[[], App]]:
    """Builds the app on ``redis_server``'s URL, through each adapter."""
    made: list[App] = []
    stores: list[Any] = []

    def make() -> App:
        sessions = RedisSessionStore(redis_server.url, timeout=TIMEOUT)
        replay = RedisReplayStore(redis_server.url, timeout=TIMEOUT)
        stores.extend([sessions, replay])
        config = sb.config(
            session_store=sessions, replay_store=replay, webhook_secret=WEBHOOK_SECRET
        )
        app = MAKERS[request.param](config)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
    for store in stores:
        store.close()


def json_of(response: Any) -> Any:
    """The JSON body of an httpx or a Flask test response."""
    return response.json() if callable(response.json) else response.json


def assert_unavailable_but_signed_in(response: Any) -> None:
    """503, a short Retry-After, and the session cookie left alone."""
    assert response.status_code == 503
    assert 1 <= int(response.headers["retry-after"]) <= math.ceil(TIMEOUT)
    assert "authonomy_session" not in response.headers.get("set-cookie", "")


def test_redis_down_mid_traffic_then_back(
    make_app: Callable[[], App], redis_server: RedisServer, sb: Sandbox
) -> None:
    redis_server.start()
    app = make_app()
    login_as(app.client, "bob")
    assert json_of(app.get("/api/me"))["id"] == "user_bob"
    assert app.deliver("evt_before").status_code == 200
    token = mint(sb)

    redis_server.stop()
    answer = app.get("/api/me")
    assert_unavailable_but_signed_in(answer)
    assert json_of(answer)["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    page = app.get("/profile", headers=PAGE)
    assert_unavailable_but_signed_in(page)  # not a redirect to the login page
    assert app.get("/api/me", headers=bearer(token)).status_code == 200
    refused = app.deliver("evt_during")
    assert refused.status_code == 503
    assert refused.headers["retry-after"]

    # Redis comes back with its append-only file: same session, no app restart.
    redis_server.start()
    assert json_of(app.get("/api/me"))["id"] == "user_bob"
    assert app.deliver("evt_during").status_code == 200  # Authonomy's retry
    assert json_of(app.deliver("evt_during"))["data"]["duplicate"] is True
    assert json_of(app.deliver("evt_before"))["data"]["duplicate"] is True
    assert app.handled == ["evt_before", "evt_during"]


def test_redis_down_at_start_up(make_app: Callable[[], App], redis_server: RedisServer) -> None:
    app = make_app()  # nothing listens on the port yet
    assert app.get("/").status_code == 200  # a page without a session needs no store
    app.set_session_cookie("A" * 43)
    assert_unavailable_but_signed_in(app.get("/api/me"))
    assert app.deliver("evt_early").status_code == 503
    app.set_session_cookie(None)

    redis_server.start()
    login_as(app.client, "alice")
    assert json_of(app.get("/api/me"))["id"] == "user_alice"
    assert app.deliver("evt_early").status_code == 200
    assert app.handled == ["evt_early"]


def test_sessions_survive_a_redis_crash_and_restart(
    make_app: Callable[[], App], redis_server: RedisServer
) -> None:
    redis_server.start()
    app = make_app()
    login_as(app.client, "bob")
    redis_server.restart()  # SIGKILL, then start on the same data
    assert json_of(app.get("/api/me"))["id"] == "user_bob"


def test_a_frozen_redis_answers_503_within_the_timeout(
    make_app: Callable[[], App], redis_server: RedisServer
) -> None:
    """A Redis that accepts nothing and answers nothing must not hang the request."""
    redis_server.start()
    app = make_app()
    login_as(app.client, "bob")
    redis_server.pause()
    try:
        started = time.monotonic()
        answer = app.get("/api/me")
        waited = time.monotonic() - started
        assert_unavailable_but_signed_in(answer)
        # Bounded, not fast: one retry of two half-timeouts, plus slack for a busy machine.
        assert waited < TIMEOUT + 2
        assert app.deliver("evt_frozen").status_code == 503
    finally:
        redis_server.resume()
    assert json_of(app.get("/api/me"))["id"] == "user_bob"
    assert app.deliver("evt_frozen").status_code == 200


def test_a_sentinel_failover_keeps_sessions_and_webhooks(
    sb: Sandbox, redis_sentinel: SentinelSetup
) -> None:
    """Both adapters on a Sentinel-managed primary, through one promotion of its replica."""
    stores = [
        RedisSessionStore(redis_sentinel.url, timeout=TIMEOUT),
        RedisReplayStore(redis_sentinel.url, timeout=TIMEOUT),
    ]
    config = sb.config(
        session_store=stores[0], replay_store=stores[1], webhook_secret=WEBHOOK_SECRET
    )
    apps = [starlette_app(config), flask_app(config)]
    try:
        event_id = f"evt_failover_{uuid.uuid4().hex[:8]}"
        for app in apps:
            login_as(app.client, "bob")
        assert apps[0].deliver(event_id).status_code == 200
        # Replication is asynchronous: what was confirmed must have reached the replica.
        assert cli(redis_sentinel.primary_port(), "wait", "1", "5000") == "1"
        redis_sentinel.failover()
        for app in apps:
            statuses = [app.get("/api/me").status_code for _ in range(3)]
            # At worst a request meets the demoted primary: a 503, never a sign-out.
            assert set(statuses) <= {200, 503} and statuses[-1] == 200
            assert json_of(app.get("/api/me"))["id"] == "user_bob"
            assert json_of(app.deliver(event_id))["data"]["duplicate"] is True
        assert apps[0].handled == [event_id]
    finally:
        for app in apps:
            app.close()
        for store in stores:
            store.close()
