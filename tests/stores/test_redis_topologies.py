"""Both Redis stores against a real Redis Cluster and a real Sentinel set-up.

The deployments are started by session fixtures (``redis_cluster``, ``redis_sentinel``)
from Debian's redis-server. Every store is tried built from a URL and handed a ready
client, blocking and asyncio.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

from authonomy_integrations._core.sessions import new_session_id
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.stores._replay import RedisReplayStore

from ..redis_servers import RedisClusterSetup, SentinelSetup, cli, wait_until
from .conftest import RecordFactory

PATIENCE = 10.0

TOPOLOGIES = ["server", "cluster", "sentinel"]


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=TOPOLOGIES)
def topology_url(request: pytest.FixtureRequest) -> str:
    """The URL of each kind of deployment the stores support."""
    if request.param == "server":
        url: str = request.getfixturevalue("redis_url")
        return url
    setup: RedisClusterSetup | SentinelSetup = request.getfixturevalue(f"redis_{request.param}")
    return setup.url


def sync_client(kind: str, request: pytest.FixtureRequest) -> tuple[Any, list[Any]]:
    """A ready blocking client of the deployment, as an app would build it, and all
    the clients to close afterwards."""
    if kind == "cluster":
        cluster: RedisClusterSetup = request.getfixturevalue("redis_cluster")
        client = redis.cluster.RedisCluster(host="127.0.0.1", port=cluster.ports[0])
        return client, [client]
    if kind == "sentinel":
        setup: SentinelSetup = request.getfixturevalue("redis_sentinel")
        sentinel = redis.sentinel.Sentinel([("127.0.0.1", setup.sentinel_port)])
        client = sentinel.master_for(setup.service)
        return client, [client, *sentinel.sentinels]
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    return client, [client]


def async_client(kind: str, request: pytest.FixtureRequest) -> tuple[Any, list[Any]]:
    """A ready ``redis.asyncio`` client of the deployment, and what to close afterwards."""
    if kind == "cluster":
        cluster: RedisClusterSetup = request.getfixturevalue("redis_cluster")
        client = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=cluster.ports[0])
        return client, [client]
    if kind == "sentinel":
        setup: SentinelSetup = request.getfixturevalue("redis_sentinel")
        sentinel = redis.asyncio.sentinel.Sentinel([("127.0.0.1", setup.sentinel_port)])
        client = sentinel.master_for(setup.service)
        return client, [client, *sentinel.sentinels]
    client = redis.asyncio.Redis.from_url(request.getfixturevalue("redis_url"))
    return client, [client]


@pytest.fixture(params=TOPOLOGIES)
def ready_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    client, owned = sync_client(request.param, request)
    yield client
    for item in owned:
        item.close()


@pytest.fixture(params=TOPOLOGIES)
async def ready_async_client(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    client, owned = async_client(request.param, request)
    yield client
    for item in owned:
        await item.aclose()


# -- sessions through a URL --------------------------------------------------------------


def test_sessions_round_trip_through_the_url(
    topology_url: str, prefix: str, make_record: RecordFactory
) -> None:
    writer = RedisSessionStore(topology_url, prefix=prefix)
    reader = RedisSessionStore(topology_url, prefix=prefix)
    try:
        record = make_record()
        session_id = writer.save(record, ttl=60)
        assert reader.load(session_id) == record
        reader.delete(session_id)
        assert writer.load(session_id) is None
    finally:
        writer.close()
        reader.close()


async def test_sessions_round_trip_through_the_url_async(
    topology_url: str, prefix: str, make_record: RecordFactory
) -> None:
    writer = RedisSessionStore(topology_url, prefix=prefix)
    reader = RedisSessionStore(topology_url, prefix=prefix)
    try:
        record = make_record()
        session_id = await writer.asave(record, ttl=60)
        assert await reader.aload(session_id) == record
        await reader.adelete(session_id)
        assert await writer.aload(session_id) is None
    finally:
        await writer.aclose()
        await reader.aclose()


def test_lock_serializes_two_stores_on_every_topology(topology_url: str, prefix: str) -> None:
    first = RedisSessionStore(topology_url, prefix=prefix)
    second = RedisSessionStore(topology_url, prefix=prefix)
    session_id = new_session_id()
    entered = threading.Event()

    def contender() -> None:
        with second.lock(session_id):
            entered.set()

    try:
        with first.lock(session_id):
            thread = threading.Thread(target=contender)
            thread.start()
            assert not entered.wait(0.3), "the second store got in while the lock was held"
        assert entered.wait(PATIENCE)
        thread.join(PATIENCE)
    finally:
        first.close()
        second.close()


async def test_async_lock_serializes_two_stores_on_every_topology(
    topology_url: str, prefix: str
) -> None:
    first = RedisSessionStore(topology_url, prefix=prefix)
    second = RedisSessionStore(topology_url, prefix=prefix)
    session_id = new_session_id()

    async def contender() -> None:
        async with second.alock(session_id):
            pass

    try:
        async with first.alock(session_id):
            task = asyncio.create_task(contender())
            done, _ = await asyncio.wait({task}, timeout=0.3)
            assert not done, "the second store got in while the lock was held"
        await asyncio.wait_for(task, PATIENCE)
    finally:
        await first.aclose()
        await second.aclose()


def test_replay_store_through_the_url(topology_url: str, prefix: str) -> None:
    first = RedisReplayStore(topology_url, prefix=prefix)
    second = RedisReplayStore(topology_url, prefix=prefix)
    try:
        assert first.claim("evt_1", 60) == "new"
        assert second.claim("evt_1", 60) == "in_progress"
        first.complete("evt_1")
        assert second.claim("evt_1", 60) == "done"
    finally:
        first.close()
        second.close()


async def test_replay_store_through_the_url_async(topology_url: str, prefix: str) -> None:
    store = RedisReplayStore(topology_url, prefix=prefix)
    try:
        assert await store.aclaim("evt_1", 60) == "new"
        await store.arelease("evt_1")
        assert await store.aclaim("evt_1", 60) == "new"
        await store.acomplete("evt_1")
        assert await store.aclaim("evt_1", 60) == "done"
    finally:
        await store.aclose()


# -- ready clients, and who closes them ------------------------------------------------


def test_ready_blocking_client_serves_both_stores_and_stays_open(
    ready_client: Any, prefix: str, make_record: RecordFactory
) -> None:
    sessions = RedisSessionStore(client=ready_client, prefix=prefix)
    replay = RedisReplayStore(client=ready_client, prefix=prefix)
    record = make_record()
    session_id = sessions.save(record, ttl=60)
    with sessions.lock(session_id):
        assert sessions.load(session_id) == record
    assert replay.claim("evt_ready", 60) == "new"
    sessions.close()
    replay.close()
    # The app's client is the app's to close: it still works.
    assert ready_client.exists(sessions.key(session_id)) == 1


async def test_ready_asyncio_client_passed_as_client(
    ready_async_client: Any, prefix: str, make_record: RecordFactory
) -> None:
    sessions = RedisSessionStore(client=ready_async_client, prefix=prefix)
    replay = RedisReplayStore(client=ready_async_client, prefix=prefix)
    record = make_record()
    session_id = await sessions.asave(record, ttl=60)
    async with sessions.alock(session_id):
        assert await sessions.aload(session_id) == record
    assert await replay.aclaim("evt_ready", 60) == "new"
    assert await replay.aclaim("evt_ready", 60) == "in_progress"
    await sessions.aclose()
    await replay.aclose()
    assert await ready_async_client.exists(sessions.key(session_id)) == 1


def connections(port: int) -> int:
    return len(cli(port, "client", "list").splitlines())


def test_store_closes_the_clients_it_built(redis_url: str, make_record: RecordFactory) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    before = connections(port)
    store = RedisSessionStore(redis_url)
    store.save(make_record(), ttl=60)
    assert connections(port) == before + 1
    store.close()
    wait_until(lambda: connections(port) == before, "the store's connection to close")


# -- hash tags: a session's keys share one slot ----------------------------------------


def keyslot(cluster: RedisClusterSetup, key: str) -> int:
    return int(cli(cluster.ports[0], "cluster", "keyslot", key))


@pytest.mark.parametrize(
    "prefix_value", ["authonomy:session:", "authonomy:session:app_123:", "{tenant-a}:s:", "x{:"]
)
def test_a_sessions_keys_share_a_slot_whatever_the_prefix(
    redis_cluster: RedisClusterSetup, prefix_value: str
) -> None:
    store = RedisSessionStore(redis_cluster.url, prefix=prefix_value)
    session_id = new_session_id()
    assert keyslot(redis_cluster, store.key(session_id)) == keyslot(
        redis_cluster, store.lock_key(session_id)
    )
    assert store.key(session_id).startswith(prefix_value)
    store.close()


def test_default_prefix_is_unchanged() -> None:
    store = RedisSessionStore("redis://127.0.0.1:1/0")
    session_id = new_session_id()
    assert store.key(session_id) == f"authonomy:session:{{{session_id}}}"


def test_sessions_spread_over_the_cluster_primaries(
    redis_cluster: RedisClusterSetup, prefix: str, make_record: RecordFactory
) -> None:
    store = RedisSessionStore(redis_cluster.url, prefix=prefix)
    try:
        owners = {
            redis_cluster.slot_owner(store.key(store.save(make_record(), 60))) for _ in range(24)
        }
    finally:
        store.close()
    assert owners == set(redis_cluster.ports)


def test_a_script_over_a_sessions_keys_runs_on_the_cluster(
    redis_cluster: RedisClusterSetup, prefix: str, make_record: RecordFactory
) -> None:
    """A multi-key script over a session's keys is accepted, not refused with CROSSSLOT."""
    store = RedisSessionStore(redis_cluster.url, prefix=prefix)
    client = redis.cluster.RedisCluster(host="127.0.0.1", port=redis_cluster.ports[0])
    try:
        session_id = store.save(make_record(), ttl=60)
        with store.lock(session_id):
            found = client.eval(
                "return redis.call('EXISTS', KEYS[1], KEYS[2])",
                2,
                store.key(session_id),
                store.lock_key(session_id),
            )
        assert found == 2
        # What the hash tag prevents: the same script over untagged keys is refused.
        with pytest.raises(redis.exceptions.RedisClusterException, match="same key slot"):
            client.eval(
                "return redis.call('EXISTS', KEYS[1], KEYS[2])",
                2,
                prefix + session_id,
                prefix + session_id + ":lock",
            )
    finally:
        client.close()
        store.close()


def test_prefix_with_an_empty_hash_tag_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="hash tag"):
        RedisSessionStore("redis://127.0.0.1:1/0", prefix="app{}:")
    with pytest.raises(ConfigurationError, match="hash tag"):
        RedisReplayStore("redis://127.0.0.1:1/0", prefix="app{}:")


# -- URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/0",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1/mymaster",
        "redis+sentinel://127.0.0.1:26379/mymaster/zero",
        "redis+sentinel://127.0.0.1:26379/mymaster?socket_timeout=1",
    ],
)
@pytest.mark.parametrize("store", [RedisSessionStore, RedisReplayStore])
def test_bad_urls_are_configuration_errors(url: str, store: Callable[..., Any]) -> None:
    with pytest.raises(ConfigurationError):
        store(url)


def test_a_url_is_never_echoed_with_its_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore("redis+sentinel://:hunter2@127.0.0.1:26379")
    assert "hunter2" not in str(caught.value)


def test_sentinel_url_with_password_and_db(redis_sentinel: SentinelSetup, prefix: str) -> None:
    url = f"redis+sentinel://:@127.0.0.1:{redis_sentinel.sentinel_port}/{redis_sentinel.service}/3"
    store = RedisReplayStore(url, prefix=prefix)
    try:
        assert store.claim("evt_db3", 60) == "new"
        port = redis_sentinel.primary_port()
        assert cli(port, "-n", "3", "exists", f"{prefix}{{evt_db3}}") == "1"
        assert cli(port, "-n", "0", "exists", f"{prefix}{{evt_db3}}") == "0"
    finally:
        store.close()


@pytest.mark.parametrize(
    "cookie",
    ["}", "{x}", "A" * 42 + "}", "{" + "A" * 41 + "}", "*", "A" * 43 + ":lock", ""],
)
def test_hostile_cookies_never_reach_another_key(
    redis_cluster: RedisClusterSetup, prefix: str, make_record: RecordFactory, cookie: str
) -> None:
    """A cookie cannot pick its own hash tag or address a lock key: it loads nothing."""
    store = RedisSessionStore(redis_cluster.url, prefix=prefix)
    try:
        session_id = store.save(make_record(), ttl=60)
        with store.lock(session_id):
            assert store.load(cookie) is None
            store.delete(cookie)
        assert store.load(session_id) is not None
    finally:
        store.close()
