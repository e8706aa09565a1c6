"""The session store interface, and per-key locks for stores that live in one process."""

from __future__ import annotations

import asyncio
import re
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from typing import Generic, Protocol, TypeVar, runtime_checkable

from .._core.sessions import SessionRecord

__all__ = [
    "AsyncKeyedLocks",
    "KeyedLocks",
    "ProcessLocalStore",
    "SessionStore",
    "compress",
    "decompress",
    "is_session_id",
]

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
_RAW = b"\x00"
_ZLIB = b"\x01"
#: Records are a few KB; refuse to inflate anything far larger.
_MAX_PLAIN_BYTES = 1024 * 1024


def is_session_id(value: str) -> bool:
    """Whether ``value`` has the shape of :func:`~.._core.sessions.new_session_id` output."""
    return bool(_SESSION_ID.fullmatch(value))


def compress(plain: bytes) -> bytes:
    """``plain`` zlib-compressed when that makes it smaller, with a one-byte marker."""
    packed = zlib.compress(plain, 6)
    return _ZLIB + packed if len(packed) < len(plain) else _RAW + plain


def decompress(data: bytes) -> bytes | None:
    """Inverse of :func:`compress`; ``None`` for anything it did not produce."""
    kind, body = data[:1], data[1:]
    if kind == _RAW:
        return body
    if kind != _ZLIB:
        return None
    inflater = zlib.decompressobj()
    try:
        plain = inflater.decompress(body, _MAX_PLAIN_BYTES)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail or not inflater.eof else plain


@runtime_checkable
class SessionStore(Protocol):
    """Where sessions live between requests.

    The adapters put the string that :meth:`save` returns in the session cookie and hand
    it back to :meth:`load` and :meth:`delete`. Server-side stores (memory, Redis) return
    the session id; the cookie store returns the sealed record itself. So one engine
    serves all three::

        save(record, ttl) -> str          # the cookie value to set; keep it ttl seconds
        load(cookie_value) -> record      # or None: unknown, expired, forged
        delete(cookie_value) -> None      # forget the session (a no-op for cookies)
        asave / aload / adelete           # the same, awaitable, for the event loop
        lock(session_id)                  # context manager: one refresh at a time (threads)
        alock(session_id)                 # async context manager: the same for tasks
        bind_audience(audience)           # the app it serves (at start-up)
        local_cache_ttl                   # seconds a decoded session may be reused here
        shares_revocations                # whether revoke_sid / is_sid_revoked (and the
                                          # a-variants) record ended sessions for all processes

    That is what every store must offer. What it may offer besides are the optional
    abilities of ``stores/_shared.py``, each a protocol the store declares by naming it
    among its class's bases (the kit reads the declaration, never a method's name):
    :class:`~._shared.SharedSessionStore` (a store several processes share, with
    refresh claims), :class:`~._shared.CountsLoginStarts`,
    :class:`~._shared.ListsUserSessions`, :class:`~._shared.FollowsChanges`,
    :class:`~._shared.EndsRevokedSessions`, :class:`~._shared.ServesAsyncio` and
    :class:`~._shared.ClosesClients`.

    ``lock`` and ``alock`` are separate: an app uses threads (Flask) or an event loop
    (Starlette), not both for the same sessions. Failures to reach a backing service
    raise :class:`~.._errors.SessionError`. The tests in
    :mod:`authonomy_integrations.testing.store_contract` check a store and every ability
    it declares.
    """

    def save(self, record: SessionRecord, ttl: int) -> str:
        """Store ``record`` for ``ttl`` seconds and return the cookie value."""
        ...

    def load(self, cookie_value: str) -> SessionRecord | None:
        """The record behind a cookie value, or ``None``."""
        ...

    def delete(self, cookie_value: str) -> None:
        """Forget the session behind a cookie value."""
        ...

    async def asave(self, record: SessionRecord, ttl: int) -> str:
        """Awaitable :meth:`save`."""
        ...

    async def aload(self, cookie_value: str) -> SessionRecord | None:
        """Awaitable :meth:`load`."""
        ...

    async def adelete(self, cookie_value: str) -> None:
        """Awaitable :meth:`delete`."""
        ...

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """Hold the session's refresh lock (blocking the thread while another holds it)."""
        ...

    def alock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Hold the session's refresh lock (suspending the task while another holds it)."""
        ...

    #: Seconds the engine may reuse a decoded session without loading it again: 0 for
    #: stores other processes write to.
    local_cache_ttl: float
    #: Whether :meth:`revoke_sid` records ended Authonomy sessions for every process.
    shares_revocations: bool

    def bind_audience(self, audience: str) -> None:
        """Serve the app whose tokens carry ``audience`` (called when the app starts)."""
        ...

    def revoke_sid(self, sid: str, ttl: int) -> None:
        """Record that Authonomy session ``sid`` ended, for ``ttl`` seconds."""
        ...

    def is_sid_revoked(self, sid: str) -> bool:
        """Whether Authonomy session ``sid`` was recorded as ended."""
        ...

    async def arevoke_sid(self, sid: str, ttl: int) -> None:
        """Awaitable :meth:`revoke_sid`."""
        ...

    async def ais_sid_revoked(self, sid: str) -> bool:
        """Awaitable :meth:`is_sid_revoked`."""
        ...


class ProcessLocalStore:
    """What a store only this process uses declares: decoded sessions may be reused for
    ``local_cache_ttl`` seconds, and ended Authonomy sessions are remembered by the
    engine of this process, so there is nothing to record here."""

    local_cache_ttl: float = 30.0
    shares_revocations: bool = False

    def bind_audience(self, audience: str) -> None:
        """Nothing to bind: no other app reads this store."""

    def revoke_sid(self, sid: str, ttl: int) -> None:
        """Nothing to record: the engine remembers revocations in this process."""

    def is_sid_revoked(self, sid: str) -> bool:
        """Never: the engine remembers revocations in this process."""
        return False

    async def arevoke_sid(self, sid: str, ttl: int) -> None:
        """Awaitable :meth:`revoke_sid`."""

    async def ais_sid_revoked(self, sid: str) -> bool:
        """Awaitable :meth:`is_sid_revoked`."""
        return False


L = TypeVar("L")


class _Registry(Generic[L]):
    """Locks by key, counted by holders and waiters, removed when nobody uses them."""

    def __init__(self, factory: Callable[[], L]) -> None:
        self._factory = factory
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[L, int]] = {}

    def acquire_ref(self, key: str) -> L:
        with self._guard:
            lock, users = self._locks.get(key) or (self._factory(), 0)
            self._locks[key] = (lock, users + 1)
            return lock

    def release_ref(self, key: str) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


class KeyedLocks:
    """A ``threading.Lock`` per key that exists only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._registry: _Registry[threading.Lock] = _Registry(threading.Lock)

    @contextmanager
    def hold(self, key: str, timeout: float | None = None) -> Iterator[None]:
        """Block until the key's lock is free, then hold it for the ``with`` body.

        With ``timeout``, give up after that many seconds with :class:`TimeoutError`.
        """
        lock = self._registry.acquire_ref(key)
        try:
            if not lock.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError(f"lock {key!r} still held after {timeout} s")
            try:
                yield
            finally:
                lock.release()
        finally:
            self._registry.release_ref(key)

    def __len__(self) -> int:
        return len(self._registry)


class AsyncKeyedLocks:
    """An ``asyncio.Lock`` per key that exists only while some task holds or awaits it."""

    def __init__(self) -> None:
        self._registry: _Registry[asyncio.Lock] = _Registry(asyncio.Lock)

    @asynccontextmanager
    async def hold(self, key: str, timeout: float | None = None) -> AsyncIterator[None]:
        """Wait until the key's lock is free, then hold it for the ``async with`` body.

        With ``timeout``, give up after that many seconds with :class:`TimeoutError`.
        """
        lock = self._registry.acquire_ref(key)
        try:
            async with asyncio.timeout(timeout):
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            self._registry.release_ref(key)

    def __len__(self) -> int:
        return len(self._registry)
