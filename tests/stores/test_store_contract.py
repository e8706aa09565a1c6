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
