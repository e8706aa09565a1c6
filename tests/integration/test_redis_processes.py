"""Several app processes sharing Redis: one session, one refresh, one webhook run.

Each test runs against one Redis server, a three-primary Redis Cluster and a
Sentinel-managed primary.

Each "process" is its own runtime (its own engine, caches and locks) over its own Redis
connections, as two workers of one app would be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.stores._replay import RedisReplayStore
from authonomy_integrations.webhooks import WebhookReceiver

from ..redis_servers import RedisClusterSetup, SentinelSetup
from ..webhooks.conftest import make_delivery
from .helpers import sign_in

SECRET = "whsec_cmVkaXMtcHJvY2Vzc2VzLXRlc3Qtc2VjcmV0LTAx"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(params=["server", "cluster", "sentinel"])
def shared_redis_url(request: pytest.FixtureRequest) -> str:
    """One Redis server, a three-primary Redis Cluster, and a Sentinel-managed primary."""
    if request.param == "server":
        url: str = request.getfixturevalue("redis_url")
        return url
    deployment: RedisClusterSetup | SentinelSetup = request.getfixturevalue(
        f"redis_{request.param}"
    )
    return deployment.url


@pytest.fixture
def workers(sb: Sandbox, shared_redis_url: str) -> Iterator[list[AuthonomySync]]:
    config = sb.config(refresh_margin=60)
    runtimes = []
    for _ in range(2):
        store = RedisSessionStore(shared_redis_url)
        runtimes.append(
            AuthonomySync(config.replace(session_store=store), clock=sb.state.clock.now)
        )
    yield runtimes
    for runtime in runtimes:
        runtime.close()
        runtime.store.close()  # type: ignore[attr-defined]


def test_a_session_started_in_one_process_is_known_to_the_other(
    workers: list[AuthonomySync],
) -> None:
    first, second = workers
    cookie = sign_in(first).session_cookie
    state = second.authenticate_session(cookie)
    assert state.user is not None and state.user.id == "user_bob"


def test_logout_in_one_process_ends_the_session_in_the_other(
    workers: list[AuthonomySync],
) -> None:
    first, second = workers
    cookie = sign_in(first).session_cookie
    assert second.authenticate_session(cookie).user is not None
    first.logout(cookie)
    assert second.authenticate_session(cookie).user is None


def test_logout_waits_for_a_refresh_in_progress_in_another_process(
    workers: list[AuthonomySync],
) -> None:
    first, second = workers
    cookie = sign_in(first).session_cookie
    record = first.store.load(cookie)
    assert record is not None
    logged_out = threading.Event()

    def logout() -> None:
        second.logout(cookie)
        logged_out.set()

    with first.store.lock(record.id):  # the first process is refreshing this session
        thread = threading.Thread(target=logout)
        thread.start()
        assert not logged_out.wait(0.3), "the logout did not wait for the refresh"
        first.store.save(record, ttl=600)  # the refresh saves its result
    assert logged_out.wait(10)
    thread.join(10)
    assert first.store.load(cookie) is None
    assert second.authenticate_session(cookie).user is None


def test_concurrent_requests_in_two_processes_refresh_once(
    sb: Sandbox, workers: list[AuthonomySync]
) -> None:
    cookie = sign_in(workers[0]).session_cookie
    sb.advance_clock(3600 - 30)  # inside the refresh margin, for both processes
    before = sb.request_count("POST", "/v1/auth/refresh")
    barrier = threading.Barrier(16)

    def request(n: int) -> str | None:
        barrier.wait(10)
        user = workers[n % 2].authenticate_session(cookie).user
        return user.id if user else None

    with ThreadPoolExecutor(16) as pool:
        users = list(pool.map(request, range(16)))
    assert users == ["user_bob"] * 16
    assert sb.request_count("POST", "/v1/auth/refresh") == before + 1


def test_one_event_delivered_to_two_processes_runs_once(shared_redis_url: str) -> None:
    runs: list[str] = []
    stores = [RedisReplayStore(shared_redis_url) for _ in range(2)]
    receivers = [WebhookReceiver(secret=SECRET, replay_store=store) for store in stores]
    for receiver in receivers:
        receiver.on("user.authenticated")(lambda event: runs.append(event.id))
    delivery = make_delivery(event_id="evt_shared", secret=SECRET)
    headers, body = delivery.headers, delivery.body
    answers = [receiver.handle(headers, body) for receiver in receivers]
    for store in stores:
        store.close()
    assert [answer.status for answer in answers] == [200, 200]
    assert answers[1].body["data"]["duplicate"] is True
    assert runs == ["evt_shared"]
