"""Replay stores: claim / complete / release, in memory and in a real Redis."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError, ReplayStoreFullError
from authonomy_integrations.stores._replay import MemoryReplayStore, RedisReplayStore
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from .conftest import SECRET, make_delivery


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- memory --------------------------------------------------------------------------


def test_memory_claim_complete_then_done() -> None:
    store = MemoryReplayStore()
    assert store.claim("evt_1", 60) == "new"
    assert store.claim("evt_1", 60) == "in_progress"
    store.complete("evt_1")
    assert store.claim("evt_1", 60) == "done"


def test_memory_release_lets_the_id_be_claimed_again() -> None:
    store = MemoryReplayStore()
    store.claim("evt_1", 60)
    store.release("evt_1")
    assert store.claim("evt_1", 60) == "new"


def test_memory_release_never_forgets_a_done_id() -> None:
    store = MemoryReplayStore()
    store.claim("evt_1", 60)
    store.complete("evt_1")
    store.release("evt_1")
    assert store.claim("evt_1", 60) == "done"


def test_memory_claim_expires_after_its_ttl() -> None:
    clock = FakeClock()
    store = MemoryReplayStore(clock=clock)
    store.claim("evt_1", 30)
    clock.now += 29
    assert store.claim("evt_1", 30) == "in_progress"
    clock.now += 2
    assert store.claim("evt_1", 30) == "new"


def test_memory_done_id_is_forgotten_after_store_ttl() -> None:
    clock = FakeClock()
    store = MemoryReplayStore(ttl=3600, clock=clock)
    store.claim("evt_1", 30)
    store.complete("evt_1")
    clock.now += 3599
    assert store.claim("evt_1", 30) == "done"
    clock.now += 2
    assert store.claim("evt_1", 30) == "new"


def test_memory_store_is_bounded_and_refuses_rather_than_forget_a_recent_id() -> None:
    clock = FakeClock()
    store = MemoryReplayStore(maxsize=3, window=600, clock=clock)
    for index in range(3):
        store.claim(f"evt_{index}", 60)
        store.complete(f"evt_{index}")
    with pytest.raises(ReplayStoreFullError):
        store.claim("evt_3", 60)
    assert len(store) == 3
    assert store.claim("evt_0", 60) == "done"


def test_memory_store_makes_room_by_forgetting_ids_older_than_the_window() -> None:
    clock = FakeClock()
    store = MemoryReplayStore(maxsize=3, window=600, clock=clock)
    for index in range(3):
        store.claim(f"evt_{index}", 60)
        store.complete(f"evt_{index}")
        clock.now += 100
    clock.now += 400  # evt_0 is 600 s old now, evt_1 500 s
    assert store.claim("evt_3", 60) == "new"
    assert len(store) == 3
    assert store.claim("evt_0", 60) == "new"  # forgotten: out of the replay window
    with pytest.raises(ReplayStoreFullError):
        store.claim("evt_4", 60)


def test_memory_expired_entries_are_dropped_as_new_ones_arrive() -> None:
    clock = FakeClock()
    store = MemoryReplayStore(clock=clock)
    store.claim("evt_old", 10)
    clock.now += 11
    store.claim("evt_new", 10)
    assert len(store) == 1


async def test_memory_async_methods_share_state_with_sync_ones() -> None:
    store = MemoryReplayStore()
    assert await store.aclaim("evt_1", 60) == "new"
    assert store.claim("evt_1", 60) == "in_progress"
    await store.arelease("evt_1")
    assert await store.aclaim("evt_1", 60) == "new"
    await store.acomplete("evt_1")
    assert store.claim("evt_1", 60) == "done"


@pytest.mark.parametrize(("maxsize", "ttl"), [(0, 60), (10, 0)])
def test_memory_store_rejects_nonsense_settings(maxsize: int, ttl: float) -> None:
    with pytest.raises(ConfigurationError):
        MemoryReplayStore(maxsize=maxsize, ttl=ttl)


# -- redis ---------------------------------------------------------------------------


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def redis_store(redis_url: str, prefix: str) -> Iterator[RedisReplayStore]:
    store = RedisReplayStore(redis_url, prefix=prefix, ttl=3600)
    yield store
    store.close()


@pytest.fixture
async def async_redis_store(redis_url: str, prefix: str) -> AsyncIterator[RedisReplayStore]:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisReplayStore(async_client=client, prefix=prefix, ttl=3600)
    yield store
    await store.aclose()
    await client.aclose()  # the store leaves clients it did not create open


def test_redis_claim_complete_release(redis_store: RedisReplayStore) -> None:
    assert redis_store.claim("evt_1", 60) == "new"
    assert redis_store.claim("evt_1", 60) == "in_progress"
    redis_store.release("evt_1")
    assert redis_store.claim("evt_1", 60) == "new"
    redis_store.complete("evt_1")
    redis_store.release("evt_1")
    assert redis_store.claim("evt_1", 60) == "done"


def test_redis_markers_expire(redis_url: str, redis_store: RedisReplayStore, prefix: str) -> None:
    redis_store.claim("evt_claimed", 60)
    redis_store.claim("evt_done", 60)
    redis_store.complete("evt_done")
    with redis.Redis.from_url(redis_url) as client:
        claim_ms = client.pttl(prefix + "{evt_claimed}")
        done_ms = client.pttl(prefix + "{evt_done}")
    assert 0 < claim_ms <= 60_000
    assert 60_000 < done_ms <= 3_600_000


def test_redis_claim_after_marker_expiry_is_new(
    redis_url: str, redis_store: RedisReplayStore, prefix: str
) -> None:
    redis_store.claim("evt_1", 60)
    with redis.Redis.from_url(redis_url) as client:
        client.delete(prefix + "{evt_1}")  # what expiry does once the ttl has passed
    assert redis_store.claim("evt_1", 60) == "new"


async def test_redis_async_client(async_redis_store: RedisReplayStore) -> None:
    assert await async_redis_store.aclaim("evt_1", 60) == "new"
    assert await async_redis_store.aclaim("evt_1", 60) == "in_progress"
    await async_redis_store.arelease("evt_1")
    assert await async_redis_store.aclaim("evt_1", 60) == "new"
    await async_redis_store.acomplete("evt_1")
    await async_redis_store.arelease("evt_1")
    assert await async_redis_store.aclaim("evt_1", 60) == "done"


async def test_redis_async_methods_fall_back_to_blocking_client(
    redis_url: str, prefix: str
) -> None:
    with redis.Redis.from_url(redis_url) as client:
        store = RedisReplayStore(client=client, prefix=prefix)
        assert await store.aclaim("evt_1", 60) == "new"
        await store.acomplete("evt_1")
        assert store.claim("evt_1", 60) == "done"


def test_redis_store_works_with_decoded_responses(redis_url: str, prefix: str) -> None:
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        store = RedisReplayStore(client=client, prefix=prefix)
        assert store.claim("evt_1", 60) == "new"
        assert store.claim("evt_1", 60) == "in_progress"
        store.complete("evt_1")
        assert store.claim("evt_1", 60) == "done"


def test_two_receivers_sharing_redis_run_handler_once(
    redis_store: RedisReplayStore,
) -> None:
    calls: list[str] = []
    receivers = [WebhookReceiver(secret=SECRET, replay_store=redis_store) for _ in range(2)]
    for receiver in receivers:
        receiver.on_any(lambda event: calls.append(event.id))
    delivery = make_delivery(event_id="evt_shared")
    statuses = [r.handle(delivery.headers, delivery.body).body["data"] for r in receivers]
    assert statuses[1] == {"received": True, "id": "evt_shared", "duplicate": True}
    assert calls == ["evt_shared"]


def test_two_apps_sharing_redis_each_handle_the_same_event(redis_url: str) -> None:
    # Authonomy sends the same event id to every subscribed app: one app's delivery
    # must not make the other's look like a replay.
    calls: list[str] = []
    stores = [RedisReplayStore(redis_url) for _ in range(3)]
    audiences = [f"app_{uuid.uuid4().hex[:8]}", f"app_{uuid.uuid4().hex[:8]}"]
    receivers = [
        WebhookReceiver(AuthonomyConfig(audience=audience, webhook_secret=SECRET), replay_store=s)
        for audience, s in zip([*audiences, audiences[0]], stores, strict=True)
    ]
    for receiver in receivers:
        receiver.on_any(lambda event: calls.append(event.id))
    delivery = make_delivery(event_id=f"evt_{uuid.uuid4().hex}")
    answers = [r.handle(delivery.headers, delivery.body).body["data"] for r in receivers]
    assert [answer.get("duplicate", False) for answer in answers] == [False, False, True]
    assert len(calls) == 2, "each app ran its handler once; the first app's second worker did not"
    assert stores[0].prefix == f"authonomy:webhook:{audiences[0]}:"
    for store in stores:
        store.close()


def test_one_redis_replay_store_serves_one_app(redis_url: str) -> None:
    store = RedisReplayStore(redis_url)
    WebhookReceiver(AuthonomyConfig(audience="app_one", webhook_secret=SECRET), replay_store=store)
    with pytest.raises(ConfigurationError) as raised:
        WebhookReceiver(
            AuthonomyConfig(audience="app_two", webhook_secret=SECRET), replay_store=store
        )
    assert raised.value.field == "replay_store"
    store.close()


async def test_receiver_with_redis_retries_after_handler_failure(
    async_redis_store: RedisReplayStore,
) -> None:
    receiver = WebhookReceiver(secret=SECRET, replay_store=async_redis_store)
    calls: list[int] = []

    @receiver.on_any
    async def flaky(event: WebhookEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("try again")

    delivery = make_delivery(event_id="evt_retry")
    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 500
    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 200
    assert (await receiver.ahandle(delivery.headers, delivery.body)).body["data"]["duplicate"]
    assert len(calls) == 2


def test_redis_store_without_connection_details_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        RedisReplayStore()


async def test_blocking_call_without_blocking_client_is_a_configuration_error(
    redis_url: str,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisReplayStore(async_client=client)
    with pytest.raises(ConfigurationError, match="no blocking client"):
        store.claim("evt_1", 60)
    await client.aclose()


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigurationError, match=r"authonomy-integrations\[redis\]"):
        RedisReplayStore("redis://127.0.0.1:1/0")
