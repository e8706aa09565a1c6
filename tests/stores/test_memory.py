"""MemorySessionStore: bound, expiry, footprint, and locks that do not leak."""

from __future__ import annotations

import asyncio
import threading
import tracemalloc

import pytest

from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.stores._base import AsyncKeyedLocks, KeyedLocks

from .conftest import RecordFactory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_session_expires_after_its_ttl(make_record: RecordFactory) -> None:
    clock = FakeClock()
    store = MemorySessionStore(clock=clock)
    session_id = store.save(make_record(), ttl=60)
    clock.now += 59
    assert store.load(session_id) is not None
    clock.now += 1
    assert store.load(session_id) is None
    assert len(store) == 0


def test_store_ttl_caps_the_ttl_of_each_session(make_record: RecordFactory) -> None:
    clock = FakeClock()
    store = MemorySessionStore(ttl=30, clock=clock)
    session_id = store.save(make_record(), ttl=3600)
    clock.now += 30
    assert store.load(session_id) is None


def test_store_never_holds_more_than_maxsize_and_evicts_the_oldest(
    make_record: RecordFactory,
) -> None:
    store = MemorySessionStore(maxsize=3)
    ids = [store.save(make_record(), ttl=300) for _ in range(5)]
    assert len(store) == 3
    assert [store.load(i) is not None for i in ids] == [False, False, True, True, True]


def test_saving_a_session_again_makes_it_the_newest(make_record: RecordFactory) -> None:
    store = MemorySessionStore(maxsize=2)
    first, second = make_record(), make_record()
    store.save(first, ttl=300)
    store.save(second, ttl=300)
    store.save(first, ttl=300)
    store.save(make_record(), ttl=300)
    assert store.load(first.id) == first
    assert store.load(second.id) is None


def test_store_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        MemorySessionStore(maxsize=0)


def test_100k_sessions_stay_well_under_200_mb(make_record: RecordFactory) -> None:
    sample = 5_000
    records = [make_record() for _ in range(sample)]
    store = MemorySessionStore()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for record in records:
            store.save(record, ttl=300)
        per_session = (tracemalloc.get_traced_memory()[0] - before) / sample
    finally:
        tracemalloc.stop()
    assert per_session * 100_000 < 150 * 1024 * 1024


def test_sync_locks_are_removed_once_nobody_holds_or_awaits_them() -> None:
    locks = KeyedLocks()
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with locks.hold("session-a"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    assert len(locks) == 1
    release.set()
    thread.join(10)
    for index in range(100):
        with locks.hold(f"session-{index}"):
            pass
    assert len(locks) == 0


async def test_async_locks_are_removed_once_nobody_holds_or_awaits_them() -> None:
    locks = AsyncKeyedLocks()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("session-a"):
            inside.set()
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("session-a"):
            pass

    tasks = [asyncio.create_task(holder()), asyncio.create_task(waiter())]
    await asyncio.wait_for(inside.wait(), 10)
    assert len(locks) == 1
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert len(locks) == 0


async def test_cancelled_waiter_does_not_leak_its_lock() -> None:
    locks = AsyncKeyedLocks()
    inside, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with locks.hold("session-a"):
            inside.set()
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("session-a"):
            pass

    holding = asyncio.create_task(holder())
    await asyncio.wait_for(inside.wait(), 10)
    waiting = asyncio.create_task(waiter())
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await asyncio.wait_for(holding, 10)
    assert len(locks) == 0
