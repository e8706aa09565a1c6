"""Replay stores: remember which webhook ids are being handled or are done.

A receiver claims a ``webhook-id`` before running its handlers. The claim answers

- ``"new"``: nobody has it; the caller now holds an in-progress marker that expires
  after the claim's ``ttl`` (so a crashed worker does not block retries forever);
- ``"in_progress"``: another worker is handling it right now;
- ``"done"``: it was handled successfully before.

The holder then calls :meth:`complete` (remembered for the store's ``ttl``) or, when a
handler failed, :meth:`release` so Authonomy's retry can run it again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeAlias

import anyio.to_thread

from .._errors import ConfigurationError, ReplayStoreFullError
from ._redis import KeyPrefix, RedisClients, hash_tagged

__all__ = [
    "DEFAULT_DONE_TTL",
    "DEFAULT_REPLAY_WINDOW",
    "ClaimState",
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
]

ClaimState: TypeAlias = Literal["new", "in_progress", "done"]
"""What :meth:`ReplayStore.claim` found."""

DEFAULT_DONE_TTL = 24 * 3600
"""Seconds a handled id is remembered: far beyond Authonomy's ~13 minutes of retries."""

DEFAULT_REPLAY_WINDOW = 600.0
"""Seconds a memory store keeps every id whatever the traffic: twice the receivers'
default tolerance of 300 s, the longest a signed delivery can be replayed."""

_IN_PROGRESS: Literal["in_progress"] = "in_progress"
_DONE: Literal["done"] = "done"


class ReplayStore(Protocol):
    """What a receiver needs from a replay store, in blocking and asynchronous form."""

    def claim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Claim ``webhook_id`` for ``ttl`` seconds unless it is in progress or done."""
        ...

    def complete(self, webhook_id: str) -> None:
        """Record ``webhook_id`` as handled."""
        ...

    def release(self, webhook_id: str) -> None:
        """Drop an in-progress claim so a retry can run; a done id stays done."""
        ...

    async def aclaim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Asynchronous :meth:`claim`."""
        ...

    async def acomplete(self, webhook_id: str) -> None:
        """Asynchronous :meth:`complete`."""
        ...

    async def arelease(self, webhook_id: str) -> None:
        """Asynchronous :meth:`release`."""
        ...


class MemoryReplayStore:
    """A replay store in this process's memory, holding at most ``maxsize`` ids.

    An id is remembered for ``ttl`` seconds after it was handled while there is room.
    When the store is full, ids written more than ``window`` seconds ago are forgotten
    first: a delivery that old fails the receiver's timestamp check anyway (its signed
    timestamp is at most the tolerance away from when it arrived, and a replay is
    refused once it is more than the tolerance old), so forgetting it cannot let it be
    replayed. The default ``window`` is twice the receiver's default tolerance. When
    every id is younger than that, :meth:`claim` raises
    :class:`~authonomy_integrations._errors.ReplayStoreFullError` instead of forgetting
    one early: the receiver answers 503 and Authonomy delivers again later.

    Fine for one process; several workers need a shared store such as
    :class:`RedisReplayStore`. ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        maxsize: int = 100_000,
        ttl: float = DEFAULT_DONE_TTL,
        *,
        window: float = DEFAULT_REPLAY_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ConfigurationError("maxsize", "must be at least 1")
        if ttl <= 0:
            raise ConfigurationError("ttl", "must be positive")
        if window < 0:
            raise ConfigurationError("window", "must not be negative")
        self._maxsize = maxsize
        self._ttl = ttl
        self._window = window
        self._clock = clock
        # id -> (state, expires_at, written_at), oldest write first.
        self._entries: OrderedDict[str, tuple[str, float, float]] = OrderedDict()
        # One lock for both paths: async callers never block on I/O while holding it.
        self._lock = threading.Lock()

    @property
    def window(self) -> float:
        """Seconds an id is kept at least, whatever the traffic."""
        return self._window

    def claim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Claim ``webhook_id`` for ``ttl`` seconds unless it is in progress or done.

        Raises :class:`~authonomy_integrations._errors.ReplayStoreFullError` when the
        store is full of ids still inside the replay window.
        """
        with self._lock:
            now = self._clock()
            entry = self._entries.get(webhook_id)
            if entry is not None and entry[1] > now:
                return _DONE if entry[0] == _DONE else _IN_PROGRESS
            self._put(webhook_id, _IN_PROGRESS, now + ttl, now)
            return "new"

    def complete(self, webhook_id: str) -> None:
        """Record ``webhook_id`` as handled for the store's ``ttl``."""
        with self._lock:
            now = self._clock()
            self._put(webhook_id, _DONE, now + self._ttl, now)

    def release(self, webhook_id: str) -> None:
        """Drop an in-progress claim so a retry can run; a done id stays done."""
        with self._lock:
            entry = self._entries.get(webhook_id)
            if entry is not None and entry[0] == _IN_PROGRESS:
                del self._entries[webhook_id]

    async def aclaim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Asynchronous :meth:`claim` (it never blocks, so it runs inline)."""
        return self.claim(webhook_id, ttl)

    async def acomplete(self, webhook_id: str) -> None:
        """Asynchronous :meth:`complete`."""
        self.complete(webhook_id)

    async def arelease(self, webhook_id: str) -> None:
        """Asynchronous :meth:`release`."""
        self.release(webhook_id)

    def __len__(self) -> int:
        return len(self._entries)

    def _put(self, webhook_id: str, state: str, expires_at: float, now: float) -> None:
        if webhook_id not in self._entries:
            self._make_room(now)
        self._entries[webhook_id] = (state, expires_at, now)
        self._entries.move_to_end(webhook_id)

    def _make_room(self, now: float) -> None:
        # Entries are kept in write order: the oldest (expired or out of the window
        # first) are at the head.
        entries = self._entries
        while entries:
            first_id, (_, expires_at, written_at) = next(iter(entries.items()))
            if expires_at > now and (
                len(entries) < self._maxsize or now - written_at < self._window
            ):
                break
            del entries[first_id]
        if len(entries) >= self._maxsize:
            raise ReplayStoreFullError(
                f"the replay store holds {self._maxsize} webhook ids, all from the last "
                f"{self._window:g} s; raise maxsize or use RedisReplayStore"
            )


# Claim atomically: report an existing marker, or set ours with its expiry.
_CLAIM_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'new'
"""

# Release only an in-progress marker: a done id must stay done.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _state(value: bytes | str | None) -> ClaimState:
    text = value.decode() if isinstance(value, bytes) else value
    if text == "new":
        return "new"
    return _DONE if text == _DONE else _IN_PROGRESS


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))


#: Key prefix of webhook ids; the app's audience is appended once a receiver binds it.
DEFAULT_REPLAY_PREFIX = "authonomy:webhook:"


class RedisReplayStore:
    """A replay store in Redis, shared by every worker and process.

    Give a ``url`` (``redis://``, ``redis+cluster://`` or ``redis+sentinel://``, as for
    :class:`~._redis_sessions.RedisSessionStore`; both clients are made from it on first use), or
    a ready ``client`` (blocking or asyncio: ``redis.Redis``, ``RedisCluster``, a
    Sentinel ``master_for`` client) and/or ``async_client``. Without an asyncio client,
    the async methods run the blocking client in a worker thread. A delivery's marker
    is ``prefix{webhook_id}``; by default the prefix is ``authonomy:webhook:<audience>:``
    once a receiver built from an app's configuration uses the store (before that,
    ``authonomy:webhook:``), so apps sharing a Redis, which receive the same event ids,
    never take each other's deliveries for replays. An unreachable Redis raises
    :class:`~.._errors.StoreUnavailableError`, which the receiver answers with 503 so the
    delivery is retried; clients built from ``url`` give up after ``timeout`` seconds.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        async_client: Any = None,
        prefix: str | None = None,
        ttl: float = DEFAULT_DONE_TTL,
        timeout: float = 2.0,
    ) -> None:
        if ttl <= 0:
            raise ConfigurationError("ttl", "must be positive")
        self._clients = RedisClients(
            owner="RedisReplayStore",
            field="replay_store",
            url=url,
            client=client,
            async_client=async_client,
            timeout=timeout,
        )
        self._prefix = KeyPrefix(
            prefix, DEFAULT_REPLAY_PREFIX, owner="RedisReplayStore", field="replay_store"
        )
        self._ttl_ms = _milliseconds(ttl)

    @property
    def prefix(self) -> str:
        """The key prefix in force: the one given, else the default with the audience."""
        return self._prefix.value

    def bind_audience(self, audience: str) -> None:
        """Serve the app whose audience is ``audience`` (a receiver built from its
        configuration calls this); one store object serves one app."""
        self._prefix.bind(audience)

    def _key(self, webhook_id: str) -> str:
        return hash_tagged(self.prefix, webhook_id)

    def claim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Claim ``webhook_id`` for ``ttl`` seconds unless it is in progress or done."""
        with self._clients.errors():
            found = self._clients.sync().eval(
                _CLAIM_SCRIPT, 1, self._key(webhook_id), _IN_PROGRESS, _milliseconds(ttl)
            )
        return _state(found)

    def complete(self, webhook_id: str) -> None:
        """Record ``webhook_id`` as handled for the store's ``ttl``."""
        with self._clients.errors():
            self._clients.sync().set(self._key(webhook_id), _DONE, px=self._ttl_ms)

    def release(self, webhook_id: str) -> None:
        """Drop an in-progress claim so a retry can run; a done id stays done."""
        with self._clients.errors():
            self._clients.sync().eval(_RELEASE_SCRIPT, 1, self._key(webhook_id), _IN_PROGRESS)

    async def aclaim(self, webhook_id: str, ttl: float) -> ClaimState:
        """Asynchronous :meth:`claim`."""
        if not self._clients.has_async:
            return await anyio.to_thread.run_sync(self.claim, webhook_id, ttl)
        with self._clients.errors():
            found = await self._clients.async_().eval(
                _CLAIM_SCRIPT, 1, self._key(webhook_id), _IN_PROGRESS, _milliseconds(ttl)
            )
        return _state(found)

    async def acomplete(self, webhook_id: str) -> None:
        """Asynchronous :meth:`complete`."""
        if not self._clients.has_async:
            await anyio.to_thread.run_sync(self.complete, webhook_id)
            return
        with self._clients.errors():
            await self._clients.async_().set(self._key(webhook_id), _DONE, px=self._ttl_ms)

    async def arelease(self, webhook_id: str) -> None:
        """Asynchronous :meth:`release`."""
        if not self._clients.has_async:
            await anyio.to_thread.run_sync(self.release, webhook_id)
            return
        with self._clients.errors():
            await self._clients.async_().eval(
                _RELEASE_SCRIPT, 1, self._key(webhook_id), _IN_PROGRESS
            )

    def close(self) -> None:
        """Close the blocking client this store created (clients passed in are left open)."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the asyncio client this store created (clients passed in are left open)."""
        await self._clients.aclose()
