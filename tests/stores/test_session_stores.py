"""One behaviour suite, run against every session store (memory, cookie, Redis)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from authonomy_integrations._core.sessions import new_session_id
from authonomy_integrations.stores import (
    CookieSessionStore,
    MemorySessionStore,
    RedisSessionStore,
    SessionStore,
)

from .conftest import RecordFactory
from .locking import PATIENCE, assert_alock_serializes, assert_lock_serializes

#: How long a waiter is given to (wrongly) get into a lock that is held.


async def open_store(kind: str, request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if kind == "memory":
        yield MemorySessionStore()
    elif kind == "cookie":
        yield CookieSessionStore(["k" * 32])
    else:
        url = request.getfixturevalue("redis_url")
        redis_store = RedisSessionStore(url, prefix=f"test:{uuid.uuid4().hex}:")
        yield redis_store
        redis_store.close()
        await redis_store.aclose()


@pytest.fixture(params=["memory", "cookie", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """Every session store."""
    async for opened in open_store(request.param, request):
        yield opened


@pytest.fixture(params=["memory", "redis"])
async def server_store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """The stores that keep sessions on the server (and so can forget them)."""
    async for opened in open_store(request.param, request):
        yield opened


def is_server_side(store: SessionStore) -> bool:
    return not isinstance(store, CookieSessionStore)


def test_saved_session_loads_back(store: SessionStore, make_record: RecordFactory) -> None:
    record = make_record()
    cookie_value = store.save(record, ttl=300)
    assert store.load(cookie_value) == record


async def test_saved_session_loads_back_async(
    store: SessionStore, make_record: RecordFactory
) -> None:
    record = make_record()
    cookie_value = await store.asave(record, ttl=300)
    assert await store.aload(cookie_value) == record
    assert store.load(cookie_value) == record


def test_cookie_value_is_the_session_id_for_server_side_stores(
    store: SessionStore, make_record: RecordFactory
) -> None:
    record = make_record()
    cookie_value = store.save(record, ttl=300)
    assert (cookie_value == record.id) is is_server_side(store)


@pytest.mark.parametrize("value", ["", "unknown", new_session_id(), "x" * 5000, "../../etc"])
def test_unknown_or_garbage_cookie_loads_nothing(store: SessionStore, value: str) -> None:
    assert store.load(value) is None


async def test_unknown_cookie_loads_nothing_async(store: SessionStore) -> None:
    assert await store.aload(new_session_id()) is None


def test_saving_again_replaces_the_session(store: SessionStore, make_record: RecordFactory) -> None:
    record = make_record()
    store.save(record, ttl=300)
    rotated = dataclasses.replace(
        record, tokens=dataclasses.replace(record.tokens, refresh_token="rt_rotated")
    )
    cookie_value = store.save(rotated, ttl=300)
    loaded = store.load(cookie_value)
    assert loaded is not None and loaded.tokens.refresh_token == "rt_rotated"


def test_deleted_session_no_longer_loads(
    server_store: SessionStore, make_record: RecordFactory
) -> None:
    cookie_value = server_store.save(make_record(), ttl=300)
    server_store.delete(cookie_value)
    assert server_store.load(cookie_value) is None


async def test_deleted_session_no_longer_loads_async(
    server_store: SessionStore, make_record: RecordFactory
) -> None:
    cookie_value = await server_store.asave(make_record(), ttl=300)
    await server_store.adelete(cookie_value)
    assert await server_store.aload(cookie_value) is None


def test_two_threads_contending_for_one_session_lock_serialize(store: SessionStore) -> None:
    assert_lock_serializes(store, store)


def test_locks_of_different_sessions_do_not_block_each_other(store: SessionStore) -> None:
    entered = threading.Event()

    def other_session() -> None:
        with store.lock(new_session_id()):
            entered.set()

    with store.lock(new_session_id()):
        thread = threading.Thread(target=other_session)
        thread.start()
        assert entered.wait(PATIENCE)
    thread.join(PATIENCE)


def test_lock_is_released_when_the_body_raises(store: SessionStore) -> None:
    session_id = new_session_id()
    with pytest.raises(RuntimeError), store.lock(session_id):
        raise RuntimeError("refresh failed")
    entered = threading.Event()

    def again() -> None:
        with store.lock(session_id):
            entered.set()

    thread = threading.Thread(target=again)
    thread.start()
    assert entered.wait(PATIENCE)
    thread.join(PATIENCE)


async def test_two_tasks_contending_for_one_session_lock_serialize(store: SessionStore) -> None:
    await assert_alock_serializes(store, store)


async def test_async_lock_is_released_when_the_body_raises(store: SessionStore) -> None:
    session_id = new_session_id()
    with pytest.raises(RuntimeError):
        async with store.alock(session_id):
            raise RuntimeError("refresh failed")

    async def again() -> bool:
        async with store.alock(session_id):
            return True

    assert await asyncio.wait_for(again(), PATIENCE)
