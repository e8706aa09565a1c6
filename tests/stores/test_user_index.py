"""Each user's index of sessions, behind "sign out everywhere": memory and Redis list the
ids of a user's sessions until their deadline, forget one on request, and keep no user's
index beyond its sessions; the listing also survives a device-aware record round trip."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations.stores import MemorySessionStore, RedisSessionStore

from .conftest import RecordFactory

NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, redis_url: str) -> Iterator[object]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    redis_store = RedisSessionStore(redis_url, prefix=f"index-test:{id(request)}:")
    yield redis_store
    redis_store.close()


def test_sessions_are_listed_until_their_deadline_and_unlisted_on_request(
    store: object, make_record: RecordFactory
) -> None:
    first, second = make_record(), make_record()
    for record, deadline in ((first, NOW + 100), (second, NOW + 10)):
        store.save(record, 3600)  # type: ignore[attr-defined]
        store.index_session("user_bob", record.id, deadline, 3600)  # type: ignore[attr-defined]
    listed = store.indexed_sessions  # type: ignore[attr-defined]
    assert sorted(listed("user_bob", NOW)) == sorted([first.id, second.id])
    assert listed("user_bob", NOW + 50) == [first.id]  # the second is past its deadline
    assert listed("user_alice", NOW) == []
    store.unindex_session("user_bob", first.id)  # type: ignore[attr-defined]
    assert listed("user_bob", NOW) == [second.id]


def test_async_twins_list_the_same(store: object, make_record: RecordFactory) -> None:
    record = make_record()

    async def scenario() -> tuple[list[str], list[str]]:
        await store.asave(record, 3600)  # type: ignore[attr-defined]
        await store.aindex_session("user_bob", record.id, NOW + 100, 3600)  # type: ignore[attr-defined]
        before = await store.aindexed_sessions("user_bob", NOW)  # type: ignore[attr-defined]
        await store.aunindex_session("user_bob", record.id)  # type: ignore[attr-defined]
        after = await store.aindexed_sessions("user_bob", NOW)  # type: ignore[attr-defined]
        aclose = getattr(store, "aclose", None)
        if aclose is not None:
            await aclose()
        return before, after

    assert asyncio.run(scenario()) == ([record.id], [])


def test_a_memory_index_never_outgrows_the_store(make_record: RecordFactory) -> None:
    store = MemorySessionStore(maxsize=2)
    for n in range(50):
        record = make_record()
        store.save(record, 3600)
        store.index_session(f"user_{n}", record.id, NOW + 100, 3600)
    assert len(store._users) <= 3  # the users whose sessions are still held, and one more


def test_device_details_survive_the_records_bytes(make_record: RecordFactory) -> None:
    record = dataclasses.replace(make_record(), user_agent="Phone/2", ip_prefix="203.0.113.0/24")
    again = SessionRecord.from_bytes(record.to_bytes())
    assert again is not None
    assert (again.user_agent, again.ip_prefix) == ("Phone/2", "203.0.113.0/24")
