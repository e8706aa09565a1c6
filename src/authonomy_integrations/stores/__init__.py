"""Session, replay and lock stores: memory, encrypted cookie, Redis.

``RedisSessionStore`` is imported on first use, so apps without the ``redis`` extra
never import redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import SessionStore
from .cookie import CookieSessionStore
from .memory import MemorySessionStore

if TYPE_CHECKING:
    from .redis import RedisSessionStore

__all__ = ["CookieSessionStore", "MemorySessionStore", "RedisSessionStore", "SessionStore"]


def __getattr__(name: str) -> Any:
    if name == "RedisSessionStore":
        from .redis import RedisSessionStore

        return RedisSessionStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
