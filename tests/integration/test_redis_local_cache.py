"""Two workers of one app on one Redis, each keeping decoded sessions in memory
(``RedisSessionStore(url, local_cache_ttl=...)``): what one worker changes, the other
stops serving from its cache within 50 ms, and never later than ``local_cache_ttl``.

Each worker is its own runtime (engine, caches, Redis connections), blocking or asyncio,
over one Redis server, a three-primary Redis Cluster or a Sentinel-managed primary. A
bound is checked by asking the other worker again until it answers the new way, failing
once the bound has passed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.webhooks import WebhookReceiver

from ..redis_servers import RedisClusterSetup, SentinelSetup, cli, wait_until
from ..webhooks.conftest import make_delivery
from .helpers import sign_in

SECRET = "whsec_bG9jYWwtY2FjaGUtdGVzdC1zZWNyZXQtMDAwMDE="
#: How soon the other worker must see a change while Redis is reachable.
BOUND = 0.050
#: The local cache's lifetime in these tests, in (sandbox clock) seconds.
CACHE_TTL = 30


class Worker:
    """One app process: a runtime of either kind with its own store, asked in the
    blocking style (an asyncio runtime runs on this worker's own event loop)."""

    def __init__(self, config: AuthonomyConfig, kind: str, clock: Callable[[], float]) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop() if kind == "async" else None
        self.runtime: AuthonomySync | AuthonomyAsync
        if kind == "async":
            self.runtime = AuthonomyAsync(config, clock=clock)
        else:
            self.runtime = AuthonomySync(config, clock=clock)
        self.store: RedisSessionStore = self.runtime.store  # type: ignore[assignment]

    def _do(self, result: Any) -> Any:
        return self.loop.run_until_complete(result) if self.loop is not None else result

    def user(self, cookie: str) -> AuthonomyUser | None:
        """The user this worker serves for ``cookie`` now."""
        user: AuthonomyUser | None = self._do(self.runtime.authenticate_session(cookie)).user
        return user

    def cached(self, cookie: str) -> bool:
        """Whether the next request with ``cookie`` is answered from memory."""
        return self.runtime.engine.cached_session(cookie) is not None

    def logout(self, cookie: str) -> None:
        self._do(self.runtime.logout(cookie))

    def receiver(self) -> WebhookReceiver:
        """A webhook receiver whose session-ending events end sessions in this worker."""
        receiver = WebhookReceiver(secret=SECRET)
        receiver.on("session.revoked")(self.runtime.back_channel_logout)
        return receiver

    def deliver(self, receiver: WebhookReceiver, headers: Any, body: bytes) -> int:
        if self.loop is not None:
            return int(self.loop.run_until_complete(receiver.ahandle(headers, body)).status)
        return int(receiver.handle(headers, body).status)

    def close(self) -> None:
        if isinstance(self.runtime, AuthonomyAsync):
            assert self.loop is not None
            self.loop.run_until_complete(self.runtime.aclose())
            self.loop.run_until_complete(self.store.aclose())
            self.loop.close()
        else:
            self.runtime.close()
        self.store.close()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


SETUPS = [
    ("sync", "server"),
    ("async", "server"),
    ("sync", "cluster"),
    ("async", "cluster"),
    ("sync", "sentinel"),
]


@pytest.fixture(params=SETUPS, ids=["-".join(setup) for setup in SETUPS])
def setup(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The runtime kind and a Redis URL: one server, a Cluster, a Sentinel primary."""
    kind, deployment = request.param
    if deployment == "server":
        return kind, str(request.getfixturevalue("redis_url"))
    found: RedisClusterSetup | SentinelSetup = request.getfixturevalue(f"redis_{deployment}")
    return kind, found.url


def start_workers(
    sb: Sandbox, kind: str, url: str, *, refresh_margins: tuple[int, int] = (60, 60)
) -> list[Worker]:
    """Two workers of one app, each following the other's changes."""
    workers = []
    for margin in refresh_margins:
        store = RedisSessionStore(url, local_cache_ttl=CACHE_TTL)
        config = sb.config(refresh_margin=margin).replace(session_store=store)
        workers.append(Worker(config, kind, sb.state.clock.now))
    for worker in workers:
        wait_until(lambda w=worker: w.store.following_changes, "the change listener")
    return workers


@pytest.fixture
def workers(sb: Sandbox, setup: tuple[str, str]) -> Iterator[list[Worker]]:
    kind, url = setup
    started = start_workers(sb, kind, url)
    yield started
    for worker in started:
        worker.close()


def signed_in(sb: Sandbox, url: str) -> str:
    """A session cookie from a sign-in through a third runtime of the same app."""
    store = RedisSessionStore(url)
    kit = AuthonomySync(sb.config().replace(session_store=store), clock=sb.state.clock.now)
    try:
        return sign_in(kit).session_cookie
    finally:
        kit.close()
        store.close()


def served_from_memory_by(worker: Worker, cookie: str) -> AuthonomyUser:
    """Have ``worker`` serve ``cookie`` and keep its session in memory (a load that a
    change message overtakes, such as the sign-in's own, is not kept: ask again)."""
    wait_until(lambda: worker.user(cookie) is not None and worker.cached(cookie), "caching", 5)
    user = worker.user(cookie)
    assert user is not None
    return user


def within(bound: float, condition: Callable[[], bool], what: str) -> None:
    """Fail unless ``condition()`` turns true within ``bound`` seconds from now."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {bound * 1000:.0f} ms")
        time.sleep(0.001)  # let the listener thread run


def test_a_logout_in_one_worker_ends_the_session_in_the_others_cache_within_50ms(
    sb: Sandbox, setup: tuple[str, str], workers: list[Worker]
) -> None:
    first, second = workers
    cookie = signed_in(sb, setup[1])
    served_from_memory_by(second, cookie)
    first.logout(cookie)
    within(BOUND, lambda: second.user(cookie) is None, "the logout")


def test_a_back_channel_revocation_reaches_the_others_cache_within_50ms(
    sb: Sandbox, setup: tuple[str, str], workers: list[Worker]
) -> None:
    first, second = workers
    cookie = signed_in(sb, setup[1])
    sid = served_from_memory_by(second, cookie).session_id
    assert sid is not None
    body = json.dumps(
        {
            "id": "evt_revoked",
            "type": "session.revoked",
            "timestamp": "2024-01-15T10:30:00Z",
            "data": {"user": {"id": "user_bob"}, "session": {"id": sid}},
        }
    ).encode()
    delivery = make_delivery(body, event_id="evt_revoked", secret=SECRET)
    assert first.deliver(first.receiver(), delivery.headers, delivery.body) == 200
    within(BOUND, lambda: second.user(cookie) is None, "the revocation")


def test_a_refresh_in_one_worker_reaches_the_others_cache_within_50ms(
    sb: Sandbox, setup: tuple[str, str]
) -> None:
    kind, url = setup
    # The first worker refreshes a token at once; the second keeps it cached meanwhile.
    first, second = start_workers(sb, kind, url, refresh_margins=(3600, 60))
    try:
        cookie = signed_in(sb, url)
        before = served_from_memory_by(second, cookie).claims["exp"]
        sb.advance_clock(10)
        refreshed = first.user(cookie)
        assert refreshed is not None and refreshed.claims["exp"] > before

        def sees_refresh() -> bool:
            user = second.user(cookie)
            return user is not None and user.claims["exp"] == refreshed.claims["exp"]

        within(BOUND, sees_refresh, "the refreshed token")
    finally:
        first.close()
        second.close()


def test_a_lost_change_is_served_no_longer_than_local_cache_ttl(
    sb: Sandbox, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = start_workers(sb, "sync", redis_url)
    try:
        cookie = signed_in(sb, redis_url)
        served_from_memory_by(second, cookie)
        # Pub/sub delivers at most once: here the logout's message never arrives.
        monkeypatch.setattr(first.store, "_announce", lambda message: ("ping", (), {}))
        first.logout(cookie)
        assert second.user(cookie) is not None  # the cache still answers, for now
        sb.advance_clock(CACHE_TTL)
        assert second.user(cookie) is None
    finally:
        first.close()
        second.close()


def test_a_cache_whose_change_listener_was_cut_off_forgets_its_sessions(
    sb: Sandbox, redis_url: str
) -> None:
    first, second = start_workers(sb, "sync", redis_url)
    try:
        cookie = signed_in(sb, redis_url)
        served_from_memory_by(second, cookie)
        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        cli(port, "client", "kill", "type", "pubsub")  # changes published now are lost
        first.logout(cookie)
        # Subscribing again forgets every cached session, long before the cache's ttl.
        wait_until(lambda: second.user(cookie) is None, "the cut-off cache forgetting", 5)
        # And changes reach it again as before.
        cookie = signed_in(sb, redis_url)
        served_from_memory_by(second, cookie)
        first.logout(cookie)
        within(BOUND, lambda: second.user(cookie) is None, "the logout after reconnecting")
    finally:
        first.close()
        second.close()


def test_a_worker_forked_after_start_up_follows_changes_on_its_own_thread(
    sb: Sandbox, redis_url: str
) -> None:
    # ``gunicorn --preload``: the app (and its listener thread) is made before the fork,
    # and threads do not survive it.
    first, second = start_workers(sb, "sync", redis_url)
    try:
        cookie = signed_in(sb, redis_url)
        served_from_memory_by(second, cookie)
        ready_read, ready_write = os.pipe()
        go_read, go_write = os.pipe()
        child = os.fork()
        if child == 0:  # the forked worker: report what it saw through its exit status
            os._exit(_forked_worker(second, cookie, ready_write, go_read))
        os.close(ready_write)
        assert os.read(ready_read, 1) == b"r", "the forked worker never got ready"
        first.logout(cookie)
        os.write(go_write, b"g")
        _, status = os.waitpid(child, 0)
        for end in (ready_read, go_read, go_write):
            os.close(end)
        assert os.waitstatus_to_exitcode(status) == 0, "the forked worker served the session"
    finally:
        first.close()
        second.close()


def _forked_worker(worker: Worker, cookie: str, ready: int, go: int) -> int:
    try:
        wait_until(lambda: worker.store.following_changes, "the listener after fork", 10)
        served_from_memory_by(worker, cookie)
        os.write(ready, b"r")
        os.read(go, 1)  # the logout is done
        within(BOUND, lambda: worker.user(cookie) is None, "the logout after fork")
    except BaseException:
        return 1
    return 0
