"""Conformance tests for session stores: the kit's own run them, and so can yours.

Subclass a contract in a test module, in a class whose name starts with ``Test``, and give
it a ``store`` fixture (a new store each test; the contract binds it to an app's audience
as the kit does at start-up)::

    import pytest
    from authonomy_integrations.testing.store_contract import SharedSessionStoreContract

    class TestPostgresStore(SharedSessionStoreContract):
        @pytest.fixture
        def store(self, database_url):
            store = PostgresSessionStore(database_url, table="sessions_test")
            yield store
            store.close()

        @pytest.fixture
        def peer(self, store, database_url):
            # the same sessions, as another worker process reaches them
            peer = PostgresSessionStore(database_url, table="sessions_test")
            yield peer
            peer.close()

- :class:`SessionStoreContract`: what every :class:`~authonomy_integrations.stores.SessionStore`
  does: save, load, replace, delete, blocking and awaitable alike, and one refresh at a time
  per session (``lock`` for threads, ``alock`` for tasks). A store whose cookie value is the
  session itself, like ``CookieSessionStore``, sets ``server_side = False``.
- :class:`SharedSessionStoreContract`: adds what a
  :class:`~authonomy_integrations.stores.SharedSessionStore` does for every process: it
  needs a ``peer`` fixture, a second store object on the same backing service. Sessions,
  ended Authonomy sessions, locks and refresh claims are all seen from the peer.

Either contract also checks every optional ability the store declares (the protocols of
:mod:`authonomy_integrations.stores` it names among its bases): that nothing declared is
missing, and that each does what it promises (login starts counted, a user's sessions
listed, a revoked Authonomy session's sessions ended, other processes' changes
followed). The test of an ability the store does not declare is skipped, saying so; a
store that has an ability's methods without declaring it fails, as the kit would refuse
it at start-up.

The tests need nothing but pytest: each test runs its awaitable part in an event loop of
its own (:meth:`SessionStoreContract.run_async`), then awaits the stores' ``aclose()`` on
that loop when they declare :class:`~authonomy_integrations.stores.ClosesClients`. While
a test holds a lock it watches the other contender for :data:`HELD_WINDOW` seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

import pytest

from .._core.crypto import b64url_encode
from .._core.sessions import SessionRecord, TokenSet, new_session_id
from .._errors import ConfigurationError
from ..stores import (
    CountsLoginStarts,
    EndsRevokedSessions,
    FollowsChanges,
    ListsUserSessions,
    ServesAsyncio,
    SessionStore,
    SharedSessionStore,
)
from ..stores._declared import checked_session_store, closes_clients, declares

__all__ = [
    "CONTRACT_AUDIENCE",
    "HELD_WINDOW",
    "SessionStoreContract",
    "SharedSessionStoreContract",
    "assert_alock_serializes",
    "assert_lock_serializes",
    "make_record",
    "rotated",
]

CONTRACT_AUDIENCE = "app_store_contract"
"""The audience the stores under test are bound to."""
HELD_WINDOW = 0.3
"""Seconds a second contender is watched, to see it wait, while the first holds a lock."""
_PATIENCE = 10.0
_NOW = 1_700_000_000.0


def make_record(refresh_token: str | None = None) -> SessionRecord:
    """A session record the size of a real one (an RS256 access token and its claims)."""
    claims = {
        "iss": "https://auth.authonomy.io",
        "aud": CONTRACT_AUDIENCE,
        "sub": "user_" + b64url_encode(os.urandom(12)),
        "customer_id": "acme-corp",
        "groups": ["engineering", "admins"],
        "sid": "ses_" + b64url_encode(os.urandom(12)),
        "exp": int(_NOW) + 3600,
    }
    tokens = TokenSet(
        access_token=".".join(b64url_encode(os.urandom(n)) for n in (60, 300, 256)),
        refresh_token=refresh_token or "rt_" + b64url_encode(os.urandom(32)),
        id_token=None,
        expires_at=_NOW + 3600,
        scope="openid profile email groups",
    )
    return SessionRecord(new_session_id(), tokens, claims, created_at=_NOW, last_seen=_NOW)


def rotated(record: SessionRecord) -> SessionRecord:
    """``record`` after a refresh: the same session with a new refresh token."""
    tokens = dataclasses.replace(record.tokens, refresh_token="rt_" + os.urandom(16).hex())
    return dataclasses.replace(record, tokens=tokens)


def assert_lock_serializes(first: SessionStore, second: SessionStore) -> None:
    """``second.lock`` waits (in another thread) while ``first.lock`` holds a session."""
    session_id = new_session_id()
    order: list[str] = []
    waiting, entered = threading.Event(), threading.Event()

    def contender() -> None:
        waiting.set()
        with second.lock(session_id):
            order.append("second in")
            entered.set()

    with first.lock(session_id):
        order.append("first in")
        thread = threading.Thread(target=contender)
        thread.start()
        assert waiting.wait(_PATIENCE)
        assert not entered.wait(HELD_WINDOW), "the second got in while the lock was held"
        order.append("first out")
    assert entered.wait(_PATIENCE), "the second never got in after the lock was released"
    thread.join(_PATIENCE)
    assert order == ["first in", "first out", "second in"]


async def assert_alock_serializes(first: SessionStore, second: SessionStore) -> None:
    """``second.alock`` waits (in another task) while ``first.alock`` holds a session."""
    session_id = new_session_id()
    order: list[str] = []
    waiting = asyncio.Event()

    async def contender() -> None:
        waiting.set()
        async with second.alock(session_id):
            order.append("second in")

    async with first.alock(session_id):
        order.append("first in")
        task = asyncio.create_task(contender())
        await asyncio.wait_for(waiting.wait(), _PATIENCE)
        done, _ = await asyncio.wait({task}, timeout=HELD_WINDOW)
        assert not done, "the second got in while the lock was held"
        order.append("first out")
    await asyncio.wait_for(task, _PATIENCE)
    assert order == ["first in", "first out", "second in"]


class SessionStoreContract:
    """What every session store does. Subclass it with a ``store`` fixture."""

    #: Whether the cookie value is the session id and the record lives in the store
    #: (``False`` for stores whose cookie value is the sealed record itself).
    server_side: ClassVar[bool] = True

    @pytest.fixture(autouse=True)
    def _bound(self, store: SessionStore) -> None:
        # The middleware or extension binds the store before any request.
        store.bind_audience(CONTRACT_AUDIENCE)

    def run_async(self, main: Callable[[], Awaitable[None]], *stores: SessionStore) -> None:
        """Run ``main()`` in a new event loop, then close ``stores``' async clients there
        (an asyncio client belongs to the loop it was first used in)."""

        async def body() -> None:
            try:
                await main()
            finally:
                for store in stores:
                    if closes_clients(store):
                        await store.aclose()

        asyncio.run(body())

    def test_is_a_session_store(self, store: SessionStore) -> None:
        assert isinstance(store, SessionStore)
        assert store.local_cache_ttl >= 0
        assert isinstance(store.shares_revocations, bool)

    def test_saved_session_loads_back(self, store: SessionStore) -> None:
        record = make_record()
        cookie_value = store.save(record, 300)
        assert isinstance(cookie_value, str) and cookie_value
        assert store.load(cookie_value) == record

    def test_saved_session_loads_back_awaited_and_across_both_styles(
        self, store: SessionStore
    ) -> None:
        first, second = make_record(), make_record()

        async def main() -> None:
            cookie_value = await store.asave(first, 300)
            assert await store.aload(cookie_value) == first
            assert store.load(cookie_value) == first
            assert await store.aload(store.save(second, 300)) == second

        self.run_async(main, store)

    def test_cookie_value_is_the_session_id_when_server_side(self, store: SessionStore) -> None:
        record = make_record()
        assert (store.save(record, 300) == record.id) is self.server_side

    @pytest.mark.parametrize(
        "value", ["", "unknown", "x" * 5000, "../../etc/passwd", "\x00", "sess:*"]
    )
    def test_garbage_cookie_loads_nothing(self, store: SessionStore, value: str) -> None:
        assert store.load(value) is None

    def test_unknown_session_loads_nothing(self, store: SessionStore) -> None:
        unknown = new_session_id()
        assert store.load(unknown) is None
        self.run_async(lambda: _expect(store.aload(unknown), None), store)

    def test_saving_again_replaces_the_session(self, store: SessionStore) -> None:
        record = make_record()
        store.save(record, 300)
        newer = rotated(record)
        assert store.load(store.save(newer, 300)) == newer

    def test_deleted_session_no_longer_loads(self, store: SessionStore) -> None:
        cookie_value = store.save(make_record(), 300)
        store.delete(cookie_value)
        if self.server_side:
            assert store.load(cookie_value) is None

    def test_deleted_session_no_longer_loads_awaited(self, store: SessionStore) -> None:
        async def main() -> None:
            cookie_value = await store.asave(make_record(), 300)
            await store.adelete(cookie_value)
            if self.server_side:
                assert await store.aload(cookie_value) is None

        self.run_async(main, store)

    def test_deleting_an_unknown_session_is_no_error(self, store: SessionStore) -> None:
        store.delete(new_session_id())
        store.delete("garbage")

    def test_two_threads_contending_for_one_session_lock_take_turns(
        self, store: SessionStore
    ) -> None:
        assert_lock_serializes(store, store)

    def test_locks_of_different_sessions_do_not_wait_for_each_other(
        self, store: SessionStore
    ) -> None:
        entered = threading.Event()

        def other_session() -> None:
            with store.lock(new_session_id()):
                entered.set()

        with store.lock(new_session_id()):
            thread = threading.Thread(target=other_session)
            thread.start()
            assert entered.wait(_PATIENCE)
        thread.join(_PATIENCE)

    def test_lock_is_released_when_the_body_raises(self, store: SessionStore) -> None:
        session_id = new_session_id()
        with pytest.raises(RuntimeError), store.lock(session_id):
            raise RuntimeError("refresh failed")
        done = threading.Event()

        def again() -> None:
            with store.lock(session_id):
                done.set()

        thread = threading.Thread(target=again, daemon=True)
        thread.start()
        assert done.wait(_PATIENCE), "the lock stayed held after its body raised"
        thread.join(_PATIENCE)

    def test_two_tasks_contending_for_one_session_lock_take_turns(
        self, store: SessionStore
    ) -> None:
        self.run_async(lambda: assert_alock_serializes(store, store), store)

    def test_async_lock_is_released_when_the_body_raises(self, store: SessionStore) -> None:
        session_id = new_session_id()

        async def main() -> None:
            with pytest.raises(RuntimeError):
                async with store.alock(session_id):
                    raise RuntimeError("refresh failed")
            async with asyncio.timeout(_PATIENCE), store.alock(session_id):
                pass

        self.run_async(main, store)

    def test_ended_authonomy_sessions_are_recorded_when_shared(self, store: SessionStore) -> None:
        ended, ended_async, other = _sid(), _sid(), _sid()
        store.revoke_sid(ended, 60)
        assert store.is_sid_revoked(ended) is store.shares_revocations
        assert store.is_sid_revoked(other) is False

        async def main() -> None:
            await store.arevoke_sid(ended_async, 60)
            assert await store.ais_sid_revoked(ended_async) is store.shares_revocations
            assert await store.ais_sid_revoked(other) is False

        self.run_async(main, store)

    # Optional abilities: each is checked when the store declares it.

    def test_declared_abilities_are_complete_and_offered_abilities_declared(
        self, store: SessionStore
    ) -> None:
        try:
            checked_session_store(store)
        except ConfigurationError as refused:
            pytest.fail(f"the kit would refuse this store at start-up: {refused}")

    def test_login_starts_are_counted_per_bucket_and_window(self, store: SessionStore) -> None:
        _skip_unless(store, CountsLoginStarts)
        counter = cast(CountsLoginStarts, store)
        bucket, other = _bucket(), _bucket()
        first, second = counter.count_login_start(bucket, 60), counter.count_login_start(bucket, 60)
        assert [first[0], second[0]] == [1, 2]
        assert all(0 < left <= 60 for _, left in (first, second))
        assert counter.count_login_start(other, 60)[0] == 1

        async def main() -> None:
            count, left = await counter.acount_login_start(bucket, 60)
            assert count == 3 and 0 < left <= 60

        self.run_async(main, store)

    def test_a_users_sessions_are_listed_until_their_deadline(self, store: SessionStore) -> None:
        _skip_unless(store, ListsUserSessions)
        index = cast(ListsUserSessions, store)
        user, other_user = _user(), _user()
        ids = [store.save(make_record(), 300) for _ in range(2)]
        for session_id in ids:
            index.index_session(user, session_id, _NOW + 300, 300)
        assert sorted(index.indexed_sessions(user, _NOW)) == sorted(ids)
        assert index.indexed_sessions(user, _NOW + 301) == []
        assert index.indexed_sessions(other_user, _NOW) == []
        index.unindex_session(user, ids[0])
        index.unindex_session(other_user, ids[0])  # not listed there: no error
        assert index.indexed_sessions(user, _NOW) == [ids[1]]

    def test_a_users_sessions_are_listed_awaited(self, store: SessionStore) -> None:
        _skip_unless(store, ListsUserSessions)
        index = cast(ListsUserSessions, store)
        user = _user()

        async def main() -> None:
            session_id = await store.asave(make_record(), 300)
            await index.aindex_session(user, session_id, _NOW + 300, 300)
            assert await index.aindexed_sessions(user, _NOW) == [session_id]
            assert index.indexed_sessions(user, _NOW) == [session_id]
            await index.aunindex_session(user, session_id)
            assert await index.aindexed_sessions(user, _NOW) == []

        self.run_async(main, store)

    def test_a_revoked_authonomy_session_ends_its_stored_sessions(
        self, store: SessionStore
    ) -> None:
        _skip_unless(store, EndsRevokedSessions)
        ending = cast(EndsRevokedSessions, store)
        assert ending.ends_revoked_sessions is True, "declared, but says it does not"
        record, kept = make_record(), make_record()
        cookie_value, kept_value = store.save(record, 300), store.save(kept, 300)
        store.revoke_sid(record.claims["sid"], 60)
        assert store.load(cookie_value) is None
        assert store.load(kept_value) == kept

        async def main() -> None:
            again = make_record()
            value = await store.asave(again, 300)
            await store.arevoke_sid(again.claims["sid"], 60)
            assert await store.aload(value) is None

        self.run_async(main, store)

    def test_says_whether_its_awaitable_methods_can_run(self, store: SessionStore) -> None:
        _skip_unless(store, ServesAsyncio)
        assert isinstance(cast(ServesAsyncio, store).serves_asyncio, bool)

    def test_a_process_keeping_decoded_sessions_of_a_shared_store_follows_changes(
        self, store: SessionStore
    ) -> None:
        # Reusing decoded sessions is safe only where nobody else writes, or where the
        # store tells this process what others changed.
        if store.shares_revocations and store.local_cache_ttl > 0:
            assert declares(store, FollowsChanges), (
                "local_cache_ttl > 0 on a shared store that does not declare FollowsChanges"
            )


def _skip_unless(store: SessionStore, ability: type) -> None:
    """Skip the test, saying why, when ``store`` does not declare ``ability``."""
    if not declares(store, ability):
        pytest.skip(f"{type(store).__name__} does not declare stores.{ability.__name__}")


def _bucket() -> str:
    """A new login-start bucket: a store may keep what earlier runs counted."""
    return "contract-" + b64url_encode(os.urandom(12))


def _user() -> str:
    """A new user id: a store may keep what earlier runs listed."""
    return "user_" + b64url_encode(os.urandom(12))


def _sid() -> str:
    """A new Authonomy session id: a store may keep what earlier runs recorded."""
    return "ses_" + b64url_encode(os.urandom(12))


async def _expect(awaitable: Awaitable[Any], expected: Any) -> None:
    assert await awaitable == expected


class SharedSessionStoreContract(SessionStoreContract):
    """What a store shared by several processes does. Subclass it with a ``store`` and a
    ``peer`` fixture: two store objects on one backing service, as two processes hold."""

    @pytest.fixture(autouse=True)
    def _peer_bound(self, peer: SessionStore) -> None:
        peer.bind_audience(CONTRACT_AUDIENCE)

    def test_declares_itself_shared(self, store: SessionStore) -> None:
        assert declares(store, SharedSessionStore), "does not declare stores.SharedSessionStore"
        # Another process may change a session at any moment: reuse a decoded one only
        # when the store tells this process about every change.
        assert store.local_cache_ttl == 0 or declares(store, FollowsChanges)
        assert store.shares_revocations is True

    def test_sessions_are_seen_by_every_process(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        record = make_record()
        cookie_value = store.save(record, 300)
        assert peer.load(cookie_value) == record
        newer = rotated(record)
        peer.save(newer, 300)
        assert store.load(cookie_value) == newer
        peer.delete(cookie_value)
        assert store.load(cookie_value) is None

    def test_ended_authonomy_sessions_are_seen_by_every_process(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        ended, ended_async = _sid(), _sid()
        store.revoke_sid(ended, 60)
        assert peer.is_sid_revoked(ended) is True

        async def main() -> None:
            await peer.arevoke_sid(ended_async, 60)
            assert await store.ais_sid_revoked(ended_async) is True

        self.run_async(main, store, peer)

    def test_a_session_lock_spans_processes(self, store: SessionStore, peer: SessionStore) -> None:
        assert_lock_serializes(store, peer)
        self.run_async(lambda: assert_alock_serializes(peer, store), store, peer)

    def test_a_claim_is_seen_with_when_it_was_first_seen(
        self, store: SharedSessionStore, peer: SharedSessionStore
    ) -> None:
        session_id = store.save(make_record(), 300)
        assert peer.refresh_claimed(session_id, _NOW) is None
        store.claim_refresh(session_id, "claim-1", 60)
        assert peer.refresh_claimed(session_id, _NOW) == ("claim-1", _NOW)
        assert store.refresh_claimed(session_id, _NOW + 20) == ("claim-1", _NOW)

    def test_a_refreshed_record_is_saved_only_under_its_claim(
        self, store: SharedSessionStore, peer: SharedSessionStore
    ) -> None:
        record = make_record()
        session_id = store.save(record, 300)
        store.claim_refresh(session_id, "claim-1", 60)
        newer = rotated(record)
        assert peer.save_refreshed(newer, 300, "claim-2") is None
        assert store.load(session_id) == record
        assert store.save_refreshed(newer, 300, "claim-1") == session_id
        assert peer.load(session_id) == newer
        assert peer.refresh_claimed(session_id, _NOW) is None
        assert store.save_refreshed(rotated(newer), 300, "claim-1") is None

    def test_a_new_claim_replaces_the_old_one(
        self, store: SharedSessionStore, peer: SharedSessionStore
    ) -> None:
        record = make_record()
        session_id = store.save(record, 300)
        store.claim_refresh(session_id, "claim-1", 60)
        peer.claim_refresh(session_id, "claim-2", 60)
        assert store.save_refreshed(rotated(record), 300, "claim-1") is None
        assert store.refresh_claimed(session_id, _NOW) == ("claim-2", _NOW)

    def test_only_the_holder_drops_a_claim(
        self, store: SharedSessionStore, peer: SharedSessionStore
    ) -> None:
        session_id = store.save(make_record(), 300)
        store.claim_refresh(session_id, "claim-1", 60)
        assert peer.drop_refresh_claim(session_id, "claim-2") is False
        assert peer.refresh_claimed(session_id, _NOW) == ("claim-1", _NOW)
        assert peer.drop_refresh_claim(session_id, "claim-1") is True
        assert store.refresh_claimed(session_id, _NOW) is None

    def test_claims_awaited(self, store: SharedSessionStore, peer: SharedSessionStore) -> None:
        record = make_record()
        newer = rotated(record)

        async def main() -> None:
            session_id = await store.asave(record, 300)
            await store.aclaim_refresh(session_id, "claim-1", 60)
            assert await peer.arefresh_claimed(session_id, _NOW) == ("claim-1", _NOW)
            assert await peer.asave_refreshed(newer, 300, "claim-2") is None
            assert await store.asave_refreshed(newer, 300, "claim-1") == session_id
            assert await peer.aload(session_id) == newer
            await peer.aclaim_refresh(session_id, "claim-3", 60)
            assert await store.adrop_refresh_claim(session_id, "claim-1") is False
            assert await store.adrop_refresh_claim(session_id, "claim-3") is True
            assert await peer.arefresh_claimed(session_id, _NOW) is None

        self.run_async(main, store, peer)

    def test_login_starts_are_counted_for_every_process(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        _skip_unless(store, CountsLoginStarts)
        counters = cast(list[CountsLoginStarts], [store, peer])
        bucket = _bucket()
        counts = [counter.count_login_start(bucket, 60)[0] for counter in counters * 2]
        assert counts == [1, 2, 3, 4]

    def test_a_users_sessions_are_listed_for_every_process(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        _skip_unless(store, ListsUserSessions)
        mine, theirs = cast(list[ListsUserSessions], [store, peer])
        user, session_id = _user(), store.save(make_record(), 300)
        mine.index_session(user, session_id, _NOW + 300, 300)
        assert theirs.indexed_sessions(user, _NOW) == [session_id]
        theirs.unindex_session(user, session_id)
        assert mine.indexed_sessions(user, _NOW) == []

    def test_a_revoked_authonomy_session_ends_its_sessions_for_every_process(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        _skip_unless(store, EndsRevokedSessions)
        record = make_record()
        cookie_value = store.save(record, 300)
        peer.revoke_sid(record.claims["sid"], 60)
        assert store.load(cookie_value) is None

    def test_changes_by_another_process_are_followed(
        self, store: SessionStore, peer: SessionStore
    ) -> None:
        _skip_unless(store, FollowsChanges)
        if not store.local_cache_ttl:
            pytest.skip("keeps no local cache: nothing to follow")
        told: list[str | None] = []
        changed = threading.Event()
        record = make_record()

        def forget(session_id: str | None) -> None:
            told.append(session_id)
            if session_id == record.id:
                changed.set()

        cast(FollowsChanges, store).follow_changes(forget)
        # A store may start following a moment later (a subscription); its changes told
        # before that are lost, so the peer writes until one is seen.
        for _ in range(int(_PATIENCE / HELD_WINDOW)):
            peer.save(record, 300)
            if changed.wait(HELD_WINDOW):
                break
        assert changed.is_set(), f"the peer's change was never told; told {told}"
