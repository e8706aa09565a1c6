"""What a session store may offer besides :class:`~._base.SessionStore`, each a named
protocol that a store declares by naming it among its class's bases:

- :class:`SharedSessionStore`: shared by several processes, with refresh claims;
- :class:`CountsLoginStarts`: the login throttle counted for every process;
- :class:`ListsUserSessions`: each user's sessions listed ("sign out everywhere");
- :class:`FollowsChanges`: other processes' changes told to this one (a local cache);
- :class:`EndsRevokedSessions`: revoking an Authonomy session deletes its sessions;
- :class:`ServesAsyncio`: says whether its awaitable methods can run;
- :class:`ClosesClients`: connections its owner closes.

The runtime decides from the declarations alone (``stores/_declared.py``); the
conformance tests in :mod:`authonomy_integrations.testing.store_contract` check what each
declared ability promises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .._core.sessions import SessionRecord
from ._base import SessionStore

__all__ = [
    "ABILITIES",
    "ClosesClients",
    "CountsLoginStarts",
    "EndsRevokedSessions",
    "FollowsChanges",
    "Forget",
    "ListsUserSessions",
    "ServesAsyncio",
    "SharedSessionStore",
]


@runtime_checkable
class SharedSessionStore(SessionStore, Protocol):
    """A :class:`SessionStore` that several worker processes (or hosts) read and write:
    Redis, or a database of your own.

    Besides everything a session store does, it must

    - say so: ``local_cache_ttl = 0`` (another process may change a session at any
      moment, so every request loads it) and ``shares_revocations = True``;
    - record ended Authonomy sessions (:meth:`revoke_sid`) for every process;
    - hold one lock per session across every process (:meth:`lock`, :meth:`alock`);
    - keep *refresh claims*. Authonomy rotates a refresh token when it is used. The
      process about to refresh first writes a claim (:meth:`claim_refresh`); the new
      record is saved, and the claim removed, in one atomic step that happens only while
      that claim still holds (:meth:`save_refreshed`). If the store fails in between,
      the claim stays behind, and other processes that find it
      (:meth:`refresh_claimed`) do not present the spent token.

    Each method has an awaitable twin for the event loop, spelled out below. A store
    declares all this by naming ``SharedSessionStore`` among its bases; one that
    declares it without every method, or has claim methods without declaring it, is
    refused at start-up, never half used. Check a store of your own with
    :mod:`authonomy_integrations.testing.store_contract`.
    """

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Mark the session as being refreshed by the holder of ``claim``, for ``ttl``
        seconds; a claim already there is replaced (the caller holds the session lock)."""
        ...

    def save_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Atomically: if ``claim`` still holds ``record``'s session, save ``record`` for
        ``ttl`` seconds, drop the claim and return the cookie value; else save nothing and
        return ``None``."""
        ...

    def refresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """The claim on the session and when it was first seen (the ``now`` of the first
        call that found it; later calls answer that same time), or ``None``."""
        ...

    def drop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Remove the session's claim if ``claim`` still holds it; whether it did."""
        ...

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Awaitable :meth:`claim_refresh`."""
        ...

    async def asave_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Awaitable :meth:`save_refreshed`."""
        ...

    async def arefresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """Awaitable :meth:`refresh_claimed`."""
        ...

    async def adrop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Awaitable :meth:`drop_refresh_claim`."""
        ...


# The optional abilities. A store declares each one it offers by naming its protocol
# among its class's bases; the runtime reads only those declarations (see
# ``stores/_declared.py``), so a method that merely happens to exist is never called,
# and a declared one that is missing stops the app at start-up.


class CountsLoginStarts(Protocol):
    """Optional ability: login starts counted for every process sharing the store, so the
    login throttle (``login_rate_limit`` per ``login_rate_window``) holds across workers.
    Without it each process counts its own. ``RedisSessionStore`` declares it."""

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        """Count one login start in ``bucket``, a window of ``window`` seconds from its
        first start: the starts counted in it so far, and the seconds it has left."""
        ...

    async def acount_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        """Awaitable :meth:`count_login_start`."""
        ...


class ListsUserSessions(Protocol):
    """Optional ability: each user's sessions listed, behind "sign out everywhere",
    ``end_sessions`` and the sessions route. Without it those find no session to end or
    list (the cookie store: its sessions live in browsers). ``MemorySessionStore`` and
    ``RedisSessionStore`` declare it."""

    def index_session(self, user_id: str, session_id: str, deadline: float, ttl: int) -> None:
        """List ``session_id`` under ``user_id`` until ``deadline`` (the engine's clock);
        the session itself lives ``ttl`` seconds."""
        ...

    def indexed_sessions(self, user_id: str, now: float) -> list[str]:
        """The ids listed under ``user_id`` whose deadline is after ``now``."""
        ...

    def unindex_session(self, user_id: str, session_id: str) -> None:
        """Remove ``session_id`` from ``user_id``'s list (no error if it is not there)."""
        ...

    async def aindex_session(
        self, user_id: str, session_id: str, deadline: float, ttl: int
    ) -> None:
        """Awaitable :meth:`index_session`."""
        ...

    async def aindexed_sessions(self, user_id: str, now: float) -> list[str]:
        """Awaitable :meth:`indexed_sessions`."""
        ...

    async def aunindex_session(self, user_id: str, session_id: str) -> None:
        """Awaitable :meth:`unindex_session`."""
        ...


#: What a store following changes calls: a session id to forget, ``None`` for all.
Forget = Callable[[str | None], None]


class FollowsChanges(Protocol):
    """Optional ability: the store tells this process what other processes changed, so
    that a shared store may let the engine reuse decoded sessions (``local_cache_ttl``
    above 0) and still see every change. ``RedisSessionStore`` declares it."""

    def follow_changes(self, forget: Forget) -> None:
        """Call ``forget(session_id)`` when any process changes that session and
        ``forget(None)`` when any session may have changed (a missed message, say);
        a store keeping no local cache (``local_cache_ttl == 0``) may do nothing."""
        ...


class EndsRevokedSessions(Protocol):
    """Optional ability: :meth:`~._base.SessionStore.revoke_sid` also deletes every stored
    session of that Authonomy session, so a session that loads is live and the engine
    asks no second question per request. ``RedisSessionStore`` declares it."""

    #: ``True`` while the store keeps that promise.
    ends_revoked_sessions: bool


class ServesAsyncio(Protocol):
    """Optional ability: a store whose awaitable methods need something it may lack (a
    Redis store given a blocking client only) says whether they can run. An app on an
    event loop refuses at start-up a store that says no; a store that does not declare
    this is taken to serve its awaitable methods."""

    @property
    def serves_asyncio(self) -> bool:
        """Whether the awaitable methods can run."""
        ...


class ClosesClients(Protocol):
    """Optional ability: the store holds connections that its owner closes, blocking or
    awaited (the conformance tests close them on the event loop that opened them)."""

    def close(self) -> None:
        """Close the blocking connections the store opened."""
        ...

    async def aclose(self) -> None:
        """Close the connections the store opened on the running event loop."""
        ...


#: Every optional ability a session store may declare.
ABILITIES: tuple[type, ...] = (
    SharedSessionStore,
    CountsLoginStarts,
    ListsUserSessions,
    FollowsChanges,
    EndsRevokedSessions,
    ServesAsyncio,
    ClosesClients,
)
