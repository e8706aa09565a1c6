"""``MemorySessionStore``: sessions in this process's memory, bounded and expiring."""

from __future__ import annotations

import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager

from .._core.sessions import SessionRecord
from ._base import (
    AsyncKeyedLocks,
    KeyedLocks,
    ProcessLocalStore,
    compress,
    decompress,
    is_session_id,
)
from ._shared import ListsUserSessions

__all__ = ["MemorySessionStore"]

#: Each entry is one bytes object: the deadline packed in front of the record's bytes.
#: A (deadline, bytes) tuple would cost about 80 more bytes per session.
_DEADLINE = struct.Struct("<d")


class MemorySessionStore(ProcessLocalStore, ListsUserSessions):
    """Sessions kept in a dict in this process: for one-process apps and tests.

    At most ``maxsize`` sessions are kept; saving one more evicts the least recently
    saved. Each entry expires after the ``ttl`` given to :meth:`save`, capped by the
    store's own ``ttl`` when set. Entries are the records' compressed bytes, about
    1 KB per session with RS256 tokens (100,000 sessions in about 100 MB). Safe to
    share between threads; sessions do not survive a restart and are not shared
    between worker processes.

    Only this process writes here, so the engine may reuse a decoded session for up to
    ``local_cache_ttl`` seconds instead of decoding it on every request. Besides
    :class:`~._base.SessionStore` it declares one optional ability,
    :class:`~._shared.ListsUserSessions` ("sign out everywhere" within this process).
    """

    def __init__(
        self,
        maxsize: int = 100_000,
        ttl: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        #: Each user's session ids and their deadlines, for "sign out everywhere".
        self._users: dict[str, dict[str, float]] = {}
        self._mutex = threading.Lock()
        self._locks = KeyedLocks()
        self._alocks = AsyncKeyedLocks()

    def __len__(self) -> int:
        """How many sessions are held, expired ones not yet evicted included."""
        return len(self._entries)

    def save(self, record: SessionRecord, ttl: int) -> str:
        """Keep ``record`` for ``ttl`` seconds; the cookie value is the session id."""
        if self.ttl is not None:
            ttl = min(ttl, self.ttl)
        entry = _DEADLINE.pack(self._clock() + ttl) + compress(record.to_bytes())
        with self._mutex:
            self._entries.pop(record.id, None)
            self._entries[record.id] = entry
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return record.id

    def load(self, cookie_value: str) -> SessionRecord | None:
        """The unexpired record for a session id, or ``None``."""
        if not is_session_id(cookie_value):
            return None
        with self._mutex:
            entry = self._entries.get(cookie_value)
            if entry is None:
                return None
            if _DEADLINE.unpack_from(entry)[0] <= self._clock():
                del self._entries[cookie_value]
                return None
        data = decompress(entry[_DEADLINE.size :])
        return SessionRecord.from_bytes(data) if data is not None else None

    def delete(self, cookie_value: str) -> None:
        """Forget a session."""
        with self._mutex:
            self._entries.pop(cookie_value, None)

    def index_session(self, user_id: str, session_id: str, deadline: float, ttl: int) -> None:
        """List ``session_id`` under ``user_id`` until ``deadline`` (the engine's clock)."""
        with self._mutex:
            listed = self._users.setdefault(user_id, {})
            # Evicted or deleted sessions leave: an index never outgrows the store.
            for gone in [sid for sid in listed if sid not in self._entries]:
                del listed[gone]
            listed[session_id] = deadline
            if len(self._users) > self.maxsize:
                self._prune_users()

    def _prune_users(self) -> None:
        """Forget the users none of whose sessions is held any more (mutex held)."""
        for user_id, listed in list(self._users.items()):
            if not any(sid in self._entries for sid in listed):
                del self._users[user_id]

    def indexed_sessions(self, user_id: str, now: float) -> list[str]:
        """The ids listed under ``user_id`` whose deadline is after ``now``."""
        with self._mutex:
            listed = self._users.get(user_id, {})
            return [sid for sid, deadline in listed.items() if deadline > now]

    def unindex_session(self, user_id: str, session_id: str) -> None:
        """Remove ``session_id`` from ``user_id``'s index."""
        with self._mutex:
            listed = self._users.get(user_id)
            if listed is not None:
                listed.pop(session_id, None)
                if not listed:
                    del self._users[user_id]

    async def aindex_session(
        self, user_id: str, session_id: str, deadline: float, ttl: int
    ) -> None:
        """Same as :meth:`index_session`."""
        self.index_session(user_id, session_id, deadline, ttl)

    async def aindexed_sessions(self, user_id: str, now: float) -> list[str]:
        """Same as :meth:`indexed_sessions`."""
        return self.indexed_sessions(user_id, now)

    async def aunindex_session(self, user_id: str, session_id: str) -> None:
        """Same as :meth:`unindex_session`."""
        self.unindex_session(user_id, session_id)

    # The work above never waits on I/O and holds the mutex for microseconds, so the
    # event loop can run it inline.
    async def asave(self, record: SessionRecord, ttl: int) -> str:
        """Same as :meth:`save`."""
        return self.save(record, ttl)

    async def aload(self, cookie_value: str) -> SessionRecord | None:
        """Same as :meth:`load`."""
        return self.load(cookie_value)

    async def adelete(self, cookie_value: str) -> None:
        """Same as :meth:`delete`."""
        self.delete(cookie_value)

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """This process's lock for the session, for threads."""
        return self._locks.hold(session_id)

    def alock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """This process's lock for the session, for tasks."""
        return self._alocks.hold(session_id)
