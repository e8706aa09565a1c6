"""Session and webhook replay stores: memory, encrypted cookie, Redis.

``config.session_store`` takes a :class:`SessionStore` (memory by default,
:class:`CookieSessionStore`, :class:`RedisSessionStore`); a store that several processes
share is a :class:`SharedSessionStore` (Redis), which also keeps refresh claims. A store
may declare more optional abilities by naming their protocols among its bases:
:class:`CountsLoginStarts`, :class:`ListsUserSessions`, :class:`FollowsChanges`,
:class:`EndsRevokedSessions`, :class:`ServesAsyncio`, :class:`ClosesClients`. A store of
your own is checked by :mod:`authonomy_integrations.testing.store_contract`.
``config.replay_store`` and ``WebhookReceiver(replay_store=...)`` take a
:class:`ReplayStore` (:class:`MemoryReplayStore` by default, :class:`RedisReplayStore`).
``RedisSessionStore`` is imported on first use, so apps without the ``redis`` extra never
import redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import SessionStore
from ._cookie import CookieSessionStore
from ._memory import MemorySessionStore
from ._replay import MemoryReplayStore, RedisReplayStore, ReplayStore
from ._shared import (
    ClosesClients,
    CountsLoginStarts,
    EndsRevokedSessions,
    FollowsChanges,
    ListsUserSessions,
    ServesAsyncio,
    SharedSessionStore,
)

if TYPE_CHECKING:
    from ._redis_sessions import RedisSessionStore

__all__ = [
    "ClosesClients",
    "CookieSessionStore",
    "CountsLoginStarts",
    "EndsRevokedSessions",
    "FollowsChanges",
    "ListsUserSessions",
    "MemoryReplayStore",
    "MemorySessionStore",
    "RedisReplayStore",
    "RedisSessionStore",
    "ReplayStore",
    "ServesAsyncio",
    "SessionStore",
    "SharedSessionStore",
]


def __getattr__(name: str) -> Any:
    if name == "RedisSessionStore":
        from ._redis_sessions import RedisSessionStore

        return RedisSessionStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
