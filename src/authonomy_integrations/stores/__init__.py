"""Session and webhook replay stores: memory, encrypted cookie, Redis.

``config.session_store`` takes a :class:`SessionStore` (memory by default,
:class:`CookieSessionStore`, :class:`RedisSessionStore`); a store that several processes
share is a :class:`SharedSessionStore` (Redis), which also keeps refresh claims. A store
of your own is checked by :mod:`authonomy_integrations.testing.store_contract`.
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
from ._shared import SharedSessionStore

if TYPE_CHECKING:
    from ._redis_sessions import RedisSessionStore

__all__ = [
    "CookieSessionStore",
    "MemoryReplayStore",
    "MemorySessionStore",
    "RedisReplayStore",
    "RedisSessionStore",
    "ReplayStore",
    "SessionStore",
    "SharedSessionStore",
]


def __getattr__(name: str) -> Any:
    if name == "RedisSessionStore":
        from ._redis_sessions import RedisSessionStore

        return RedisSessionStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
