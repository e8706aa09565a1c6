"""Each user's sessions in Redis: a sorted set per user, the session ids scored by their
deadline, so "sign out everywhere" finds every session whichever worker made it.

The set expires with the longest-lived session in it; ids past their deadline are
skipped when read and dropped on the next write.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ._shared import ListsUserSessions

__all__ = ["RedisUserIndex"]

# ZADD, drop the entries past their deadline, and keep the set as long as its newest.
_INDEX = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return 1
"""


class RedisUserIndex(ListsUserSessions):
    """:class:`~._shared.ListsUserSessions` for ``RedisSessionStore``, which declares it
    through this base."""

    # Provided by the store: its key prefix, its clients, and its error translation.
    _sync: Callable[[], Any]
    _async: Callable[[], Any]
    _errors: Callable[[], AbstractContextManager[None]]

    @property
    def prefix(self) -> str:
        """The store's key prefix (the store defines it)."""
        raise NotImplementedError

    def user_key(self, user_id: str) -> str:
        """The Redis key of the index of ``user_id``'s sessions."""
        return f"{self.prefix}user:{user_id}"

    def _index_args(
        self, user_id: str, session_id: str, deadline: float, ttl: int
    ) -> tuple[Any, ...]:
        # Entries a session's lifetime older than this one are surely past their deadline.
        oldest = deadline - ttl
        return (
            _INDEX,
            1,
            self.user_key(user_id),
            session_id,
            repr(deadline),
            max(1, ttl),
            repr(oldest),
        )

    def index_session(self, user_id: str, session_id: str, deadline: float, ttl: int) -> None:
        """List ``session_id`` under ``user_id`` until ``deadline`` (Unix seconds)."""
        with self._errors():
            self._sync().eval(*self._index_args(user_id, session_id, deadline, ttl))

    def indexed_sessions(self, user_id: str, now: float) -> list[str]:
        """The ids listed under ``user_id`` whose deadline is after ``now``."""
        with self._errors():
            found = self._sync().zrangebyscore(self.user_key(user_id), f"({now!r}", "+inf")
        return [_text(item) for item in found]

    def unindex_session(self, user_id: str, session_id: str) -> None:
        """Remove ``session_id`` from ``user_id``'s index."""
        with self._errors():
            self._sync().zrem(self.user_key(user_id), session_id)

    async def aindex_session(
        self, user_id: str, session_id: str, deadline: float, ttl: int
    ) -> None:
        """Awaitable :meth:`index_session`."""
        with self._errors():
            await self._async().eval(*self._index_args(user_id, session_id, deadline, ttl))

    async def aindexed_sessions(self, user_id: str, now: float) -> list[str]:
        """Awaitable :meth:`indexed_sessions`."""
        with self._errors():
            found = await self._async().zrangebyscore(self.user_key(user_id), f"({now!r}", "+inf")
        return [_text(item) for item in found]

    async def aunindex_session(self, user_id: str, session_id: str) -> None:
        """Awaitable :meth:`unindex_session`."""
        with self._errors():
            await self._async().zrem(self.user_key(user_id), session_id)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
