"""RedisSessionStore against a real redis-server: TTL, cross-process locks, failures."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio

from authonomy_integrations._core.sessions import new_session_id
from authonomy_integrations._errors import ConfigurationError, SessionError
from authonomy_integrations.stores import RedisSessionStore

from ..conftest import free_port
from .conftest import RecordFactory
from .locking import assert_alock_serializes, assert_lock_serializes


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as connection:
        yield connection


@pytest.fixture
async def async_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


def test_session_key_gets_the_ttl(
    client: redis.Redis, prefix: str, make_record: RecordFactory
) -> None:
    store = RedisSessionStore(client=client, prefix=prefix)
    session_id = store.save(make_record(), ttl=120)
    assert 119_000 < client.pttl(store.key(session_id)) <= 120_000


async def test_session_key_gets_the_ttl_async(
    client: redis.Redis,
    async_client: redis.asyncio.Redis,
    prefix: str,
    make_record: RecordFactory,
) -> None:
    store = RedisSessionStore(async_client=async_client, prefix=prefix)
    session_id = await store.asave(make_record(), ttl=120)
    assert 119_000 < client.pttl(store.key(session_id)) <= 120_000


def test_sessions_are_shared_between_separate_clients(
    redis_url: str, prefix: str, make_record: RecordFactory
) -> None:
    writer, reader = (
        RedisSessionStore(redis_url, prefix=prefix),
        RedisSessionStore(redis_url, prefix=prefix),
    )
    record = make_record()
    try:
        assert reader.load(writer.save(record, ttl=60)) == record
    finally:
        writer.close()
        reader.close()


def test_record_stored_under_another_id_is_not_served(
    client: redis.Redis, prefix: str, make_record: RecordFactory
) -> None:
    store = RedisSessionStore(client=client, prefix=prefix)
    record = make_record()
    other_id = new_session_id()
    client.set(store.key(other_id), record.to_bytes())
    assert store.load(other_id) is None


def test_garbage_value_loads_nothing(client: redis.Redis, prefix: str) -> None:
    store = RedisSessionStore(client=client, prefix=prefix)
    session_id = new_session_id()
    client.set(store.key(session_id), b"\x00not json")
    assert store.load(session_id) is None


def test_lock_serializes_two_separate_clients(redis_url: str, prefix: str) -> None:
    first = RedisSessionStore(redis_url, prefix=prefix)
    second = RedisSessionStore(redis_url, prefix=prefix)
    try:
        assert_lock_serializes(first, second)
    finally:
        first.close()
        second.close()


async def test_async_lock_serializes_two_separate_clients(redis_url: str, prefix: str) -> None:
    first = RedisSessionStore(redis_url, prefix=prefix)
    second = RedisSessionStore(redis_url, prefix=prefix)
    try:
        await assert_alock_serializes(first, second)
    finally:
        await first.aclose()
        await second.aclose()


def test_lock_held_elsewhere_past_lock_timeout_raises(client: redis.Redis, prefix: str) -> None:
    session_id = new_session_id()
    client.set(f"{prefix}{{{session_id}}}:lock", b"someone else", px=60_000)
    store = RedisSessionStore(client=client, prefix=prefix, lock_timeout=0.2)
    with pytest.raises(SessionError, match="session lock"), store.lock(session_id):
        pass


def test_lock_does_not_release_a_lock_taken_over_by_another_holder(
    client: redis.Redis, prefix: str
) -> None:
    session_id = new_session_id()
    lock_key = f"{prefix}{{{session_id}}}:lock"
    store = RedisSessionStore(client=client, prefix=prefix)
    with store.lock(session_id):
        # Our lock expired and another process took it: our release must leave it.
        client.set(lock_key, b"another holder", px=60_000)
    assert client.get(lock_key) == b"another holder"


def test_unreachable_redis_raises_session_error(make_record: RecordFactory) -> None:
    store = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(SessionError, match="Redis"):
            store.save(make_record(), ttl=60)
        with pytest.raises(SessionError, match="Redis"):
            store.load(new_session_id())
        with pytest.raises(SessionError, match="Redis"), store.lock(new_session_id()):
            pass
    finally:
        store.close()


async def test_unreachable_redis_raises_session_error_async(make_record: RecordFactory) -> None:
    store = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(SessionError, match="Redis"):
            await store.aload(new_session_id())
        with pytest.raises(SessionError, match="Redis"):
            await store.asave(make_record(), ttl=60)
    finally:
        await store.aclose()


def test_store_without_url_or_client_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="url"):
        RedisSessionStore()


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigurationError, match=r"authonomy-integrations\[redis\]"):
        RedisSessionStore("redis://127.0.0.1:6379/0")
