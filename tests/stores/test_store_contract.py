"""The public store contract (``authonomy_integrations.testing.store_contract``), run the
way a store author runs it: against the kit's own stores, and against broken stores it
must catch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations.stores import (
    CookieSessionStore,
    CountsLoginStarts,
    EndsRevokedSessions,
    ListsUserSessions,
    MemorySessionStore,
    RedisSessionStore,
    SessionStore,
)
from authonomy_integrations.testing.store_contract import (
    SessionStoreContract,
    SharedSessionStoreContract,
)

from ..redis_servers import RedisClusterSetup, SentinelSetup


class TestMemorySessionStore(SessionStoreContract):
    @pytest.fixture
    def store(self) -> SessionStore:
        return MemorySessionStore()


class TestCookieSessionStore(SessionStoreContract):
    server_side = False

    @pytest.fixture
    def store(self) -> SessionStore:
        return CookieSessionStore(["k" * 32])


@pytest.fixture(params=["server", "cluster", "sentinel"])
def redis_deployment(request: pytest.FixtureRequest) -> str:
    """The URL of each kind of Redis deployment the kit supports."""
    if request.param == "server":
        url: str = request.getfixturevalue("redis_url")
        return url
    setup: RedisClusterSetup | SentinelSetup = request.getfixturevalue(f"redis_{request.param}")
    return setup.url


@pytest.fixture
def redis_prefix() -> str:
    """Keys of one test, apart from every other test's."""
    return f"test:{uuid.uuid4().hex}:"


def _redis_store(url: str, prefix: str | None) -> Iterator[RedisSessionStore]:
    store = RedisSessionStore(url, prefix=prefix)
    yield store
    store.close()


class TestRedisSessionStore(SharedSessionStoreContract):
    @pytest.fixture
    def store(self, redis_deployment: str, redis_prefix: str) -> Iterator[SessionStore]:
        yield from _redis_store(redis_deployment, redis_prefix)

    @pytest.fixture
    def peer(self, redis_deployment: str, redis_prefix: str) -> Iterator[SessionStore]:
        yield from _redis_store(redis_deployment, redis_prefix)


class TestRedisSessionStoreWithDefaultPrefix(SharedSessionStoreContract):
    """Keys named after the audience the contract binds (the prefix most apps run with)."""

    @pytest.fixture
    def store(self, redis_url: str) -> Iterator[SessionStore]:
        yield from _redis_store(redis_url, None)

    @pytest.fixture
    def peer(self, redis_url: str) -> Iterator[SessionStore]:
        yield from _redis_store(redis_url, None)


class _ClaimIgnoringStore(RedisSessionStore):
    """Saves a refreshed record whatever claim holds the session."""

    def save_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        return self.save(record, ttl)


class _ForgetfulStore(MemorySessionStore):
    """Forgets nothing it is told to delete."""

    def delete(self, cookie_value: str) -> None:
        pass


class _LocklessStore(MemorySessionStore):
    """Hands every thread the session's lock at once."""

    def lock(self, session_id: str) -> Any:
        return _NoLock()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_contract_catches_a_store_that_saves_without_the_claim(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    store, peer = (
        _ClaimIgnoringStore(redis_url, prefix=prefix),
        RedisSessionStore(redis_url, prefix=prefix),
    )
    contract = SharedSessionStoreContract()
    try:
        with pytest.raises(AssertionError):
            contract.test_a_refreshed_record_is_saved_only_under_its_claim(store, peer)
    finally:
        store.close()
        peer.close()


def test_the_contract_catches_a_store_that_keeps_deleted_sessions() -> None:
    with pytest.raises(AssertionError):
        SessionStoreContract().test_deleted_session_no_longer_loads(_ForgetfulStore())


def test_the_contract_catches_a_lock_that_does_not_exclude() -> None:
    with pytest.raises(AssertionError, match="while the lock was held"):
        SessionStoreContract().test_two_threads_contending_for_one_session_lock_take_turns(
            _LocklessStore()
        )


def test_the_contract_catches_a_process_local_store_posing_as_shared() -> None:
    with pytest.raises(AssertionError):
        SharedSessionStoreContract().test_declares_itself_shared(MemorySessionStore())


class TestRedisSessionStoreWithLocalCache(SharedSessionStoreContract):
    """A worker keeping decoded sessions, told of every change through pub/sub."""

    @pytest.fixture
    def store(self, redis_url: str, redis_prefix: str) -> Iterator[SessionStore]:
        store = RedisSessionStore(redis_url, prefix=redis_prefix, local_cache_ttl=30)
        yield store
        store.close()

    @pytest.fixture
    def peer(self, redis_url: str, redis_prefix: str) -> Iterator[SessionStore]:
        yield from _redis_store(redis_url, redis_prefix)


class _OneCountForAll(MemorySessionStore, CountsLoginStarts):
    """Declares login counts, but counts every bucket as one."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        self.starts += 1
        return self.starts, float(window)

    async def acount_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        return self.count_login_start(bucket, window)


class _CountsWithoutSaying(MemorySessionStore):
    """Counts login starts, but does not declare it: the kit would ignore the counts."""

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        return 1, float(window)

    async def acount_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        return 1, float(window)


class _DeclaresEndingRevokedSessions(MemorySessionStore, EndsRevokedSessions):
    """Promises that revoking a sid ends its sessions, and keeps nothing of it."""

    ends_revoked_sessions = True


class _IndexWithoutAwaitables(CookieSessionStore, ListsUserSessions):
    """Declares a user index, with its blocking half only."""

    def index_session(self, user_id: str, session_id: str, deadline: float, ttl: int) -> None:
        pass

    def indexed_sessions(self, user_id: str, now: float) -> list[str]:
        return []

    def unindex_session(self, user_id: str, session_id: str) -> None:
        pass


def test_the_contract_catches_login_counts_that_ignore_the_bucket() -> None:
    with pytest.raises(AssertionError):
        SessionStoreContract().test_login_starts_are_counted_per_bucket_and_window(
            _OneCountForAll()
        )


def test_the_contract_catches_a_store_with_abilities_it_does_not_declare() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"does not declare stores\.CountsLoginStarts"):
        SessionStoreContract().test_declared_abilities_are_complete_and_offered_abilities_declared(
            _CountsWithoutSaying()
        )


def test_the_contract_names_what_a_declared_ability_lacks() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        SessionStoreContract().test_declared_abilities_are_complete_and_offered_abilities_declared(
            _IndexWithoutAwaitables(["k" * 32])
        )
    assert "declares stores.ListsUserSessions but it lacks" in str(failed.value)
    assert "aindex_session, aindexed_sessions, aunindex_session" in str(failed.value)


def test_the_contract_catches_a_revoked_session_that_still_loads() -> None:
    with pytest.raises(AssertionError):
        SessionStoreContract().test_a_revoked_authonomy_session_ends_its_stored_sessions(
            _DeclaresEndingRevokedSessions()
        )


def test_the_contract_skips_what_a_store_does_not_declare_and_says_so() -> None:
    with pytest.raises(pytest.skip.Exception, match="MemorySessionStore does not declare"):
        SessionStoreContract().test_login_starts_are_counted_per_bucket_and_window(
            MemorySessionStore()
        )
