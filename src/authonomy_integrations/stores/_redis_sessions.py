"""``RedisSessionStore``: sessions in Redis, shared by every worker process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    suppress,
)
from typing import TYPE_CHECKING, Any

from .._core.sessions import SessionRecord
from .._errors import ConfigurationError, SessionError
from ._base import is_session_id
from ._redis import Command, KeyPrefix, RedisClients, hash_tagged, in_order, in_order_async
from ._redis_changes import (
    EVERY_SESSION,
    ChangeListener,
    Forget,
    change_channel,
    session_changed,
)
from ._redis_index import RedisUserIndex
from ._shared import (
    ClosesClients,
    CountsLoginStarts,
    EndsRevokedSessions,
    FollowsChanges,
    ServesAsyncio,
    SharedSessionStore,
)

if TYPE_CHECKING:
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
    from redis.cluster import RedisCluster

__all__ = ["RedisSessionStore"]

#: How often a waiter polls a lock held by another process, in seconds.
_LOCK_POLL = 0.05
#: Key prefix of sessions; the app's audience is appended once the store is bound to it.
DEFAULT_PREFIX = "authonomy:session:"

# A refresh claim is a hash: ``owner`` (the claim of the process refreshing) and ``seen``
# (when another process first found it still there). Scripts keep each step atomic.
_CLAIM = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
_SAVE_CLAIMED = """
if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""
_INSPECT_CLAIM = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return false end
redis.call('HSETNX', KEYS[1], 'seen', ARGV[1])
return {owner, redis.call('HGET', KEYS[1], 'seen')}
"""
# A login-start bucket: counted up, given its window's lifetime at its first start.
_COUNT_START = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""
_DROP_CLAIM = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
# The sessions of one Authonomy session (``sid``): a set that lives as long as the
# longest of them, so that revoking the sid finds and deletes every one.
_INDEX = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
#: Leads every value saved with its sid indexed; a value without it (saved by an
#: earlier version of this store) is checked against the revoked sids when loaded.
_INDEXED = b"i"
#: Where the ``EXISTS`` of the revoked sid is among the replies of a save (see _saving).
_REVOKED_REPLY = 2


class RedisSessionStore(
    RedisUserIndex,
    SharedSessionStore,
    CountsLoginStarts,
    FollowsChanges,
    EndsRevokedSessions,
    ServesAsyncio,
    ClosesClients,
):
    """Sessions in Redis (``SET key value EX ttl``), with a lock that spans processes.

    Give a ``url`` and the blocking and ``redis.asyncio`` clients are created on first
    use: ``redis://host:6379/0`` (one server), ``redis+cluster://host:7000`` (a Redis
    Cluster) or ``redis+sentinel://host:26379,host2:26379/mymaster`` (the primary that
    Sentinel names). Or pass a ready ``client``: ``redis.Redis``, ``redis.asyncio.Redis``,
    either ``RedisCluster``, or ``Sentinel(...).master_for(...)``; an asyncio client serves
    the async methods (``async_client`` takes one too, next to a blocking ``client``).
    The async client is bound to the event loop it is first used in, as redis-py requires.

    A session's key is ``prefix{session_id}`` and its refresh lock ``prefix{session_id}:lock``
    (set with ``NX PX``, released only by its holder, living at most ``lock_timeout``
    seconds): the hash tag keeps both in one Redis Cluster slot. While a refresh runs, the
    key ``prefix{session_id}:refresh`` holds its claim: a refreshed record is saved only
    by the claim's holder, and a claim left behind (the save failed) tells every process
    that the stored record's refresh token is spent (see :meth:`claim_refresh`). Clients built from
    ``url`` give up on a command after ``timeout`` seconds. An unreachable or failing
    Redis raises :class:`~.._errors.StoreUnavailableError` (a ``SessionError``), which
    the adapters answer with 503 and ``Retry-After``. Login starts are counted at
    ``prefix login-starts:<keyed hash>`` for every worker (see :meth:`count_login_start`).
    :meth:`close` / :meth:`aclose` close only the clients this store created.

    By default the prefix is ``authonomy:session:<audience>:`` with the audience of the
    app the store serves (the middleware or extension binds it at start-up), so apps
    sharing a Redis never read each other's sessions; one store object serves one app.

    A session request costs one Redis command (``GET``): revoking an Authonomy session
    (:meth:`revoke_sid`) deletes the stored sessions of that ``sid``, found through the
    set ``prefix sid-sessions:<sid>`` that each save adds to, so a session that loads is
    not revoked. With ``local_cache_ttl`` seconds (0, the default, keeps none) each
    worker keeps decoded sessions in memory and a repeat request costs no Redis command
    at all: every write is published on the channel ``prefix changes`` and each worker
    forgets what another one changed, refreshed, ended or revoked, within milliseconds
    while Redis is reachable and never later than ``local_cache_ttl`` (messages lost
    while a worker was disconnected). The cache reads the channel on a thread, so it
    needs ``url=`` or a blocking ``client``.

    It declares every optional ability of a store (``stores/_shared.py``):
    :class:`~._shared.SharedSessionStore` (refresh claims),
    :class:`~._shared.CountsLoginStarts`, :class:`~._shared.ListsUserSessions`,
    :class:`~._shared.FollowsChanges`, :class:`~._shared.EndsRevokedSessions`,
    :class:`~._shared.ServesAsyncio` and :class:`~._shared.ClosesClients`.
    """

    #: Ended Authonomy sessions are recorded here for every process.
    shares_revocations: bool = True
    #: :meth:`revoke_sid` also deletes the sessions of that sid: a loaded session is live.
    ends_revoked_sessions: bool = True

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | AsyncRedis | RedisCluster | AsyncRedisCluster | None = None,
        async_client: AsyncRedis | AsyncRedisCluster | None = None,
        prefix: str | None = None,
        lock_timeout: float = 10,
        timeout: float = 2.0,
        local_cache_ttl: float = 0.0,
    ) -> None:
        self._clients = RedisClients(
            owner="RedisSessionStore",
            field="session_store",
            url=url,
            client=client,
            async_client=async_client,
            timeout=timeout,
        )
        self.url = url
        self._prefix = KeyPrefix(
            prefix, DEFAULT_PREFIX, owner="RedisSessionStore", field="session_store"
        )
        self.lock_timeout = lock_timeout
        #: Seconds a worker may reuse a decoded session (0: load it on every request).
        self.local_cache_ttl = _cache_ttl(local_cache_ttl)
        if self.local_cache_ttl and not self._clients.has_sync:
            raise ConfigurationError(
                "session_store",
                "local_cache_ttl needs url= or a blocking client: other workers' changes "
                "are read on a thread",
            )
        self._listener: ChangeListener | None = None

    @property
    def serves_asyncio(self) -> bool:
        """Whether the async methods can run: an asyncio client, or a URL to build one.
        An app on an event loop refuses at start-up a store that has neither."""
        return self._clients.has_async

    @property
    def timeout(self) -> float:
        """Seconds a command may take on the clients this store builds."""
        return self._clients.timeout

    @property
    def prefix(self) -> str:
        """The key prefix in force: the one given, else the default with the audience."""
        return self._prefix.value

    def bind_audience(self, audience: str) -> None:
        """Serve the app whose tokens carry ``audience`` (called when the app starts)."""
        self._prefix.bind(audience)

    def key(self, session_id: str) -> str:
        """The Redis key of a session: ``prefix{session_id}``."""
        return hash_tagged(self.prefix, session_id)

    def lock_key(self, session_id: str) -> str:
        """The Redis key of a session's refresh lock, in the session's hash slot."""
        return hash_tagged(self.prefix, session_id, ":lock")

    def claim_key(self, session_id: str) -> str:
        """The Redis key of a session's refresh claim, in the session's hash slot."""
        return hash_tagged(self.prefix, session_id, ":refresh")

    def _sync(self) -> Any:
        return self._clients.sync()

    def _async(self) -> Any:
        return self._clients.async_()

    def _errors(self) -> AbstractContextManager[None]:
        return self._clients.errors()

    def save(self, record: SessionRecord, ttl: int) -> str:
        """``SET prefix{id} record EX ttl``; the cookie value is the session id."""
        write: Command = ("set", (self.key(record.id), _value(record)), {"ex": _seconds(ttl)})
        with self._errors():
            self._wrote(in_order(self._sync(), self._saving(record, ttl, write)), record)
        return record.id

    def load(self, cookie_value: str) -> SessionRecord | None:
        """The record for a session id, or ``None`` when unknown, expired or revoked."""
        if not is_session_id(cookie_value):
            return None
        with self._errors():
            data = self._sync().get(self.key(cookie_value))
            record, sid = _decode(data, cookie_value)
            if sid is not None and self.is_sid_revoked(sid):
                return None
        return record

    def delete(self, cookie_value: str) -> None:
        """Remove the session's key and any refresh claim on it."""
        if is_session_id(cookie_value):
            with self._errors():
                in_order(self._sync(), self._deleting(cookie_value))

    async def asave(self, record: SessionRecord, ttl: int) -> str:
        """Awaitable :meth:`save` on the ``redis.asyncio`` client."""
        write: Command = ("set", (self.key(record.id), _value(record)), {"ex": _seconds(ttl)})
        with self._errors():
            done = await in_order_async(self._async(), self._saving(record, ttl, write))
            await self._awrote(done, record)
        return record.id

    async def aload(self, cookie_value: str) -> SessionRecord | None:
        """Awaitable :meth:`load`."""
        if not is_session_id(cookie_value):
            return None
        with self._errors():
            data = await self._async().get(self.key(cookie_value))
            record, sid = _decode(data, cookie_value)
            if sid is not None and await self.ais_sid_revoked(sid):
                return None
        return record

    async def adelete(self, cookie_value: str) -> None:
        """Awaitable :meth:`delete`."""
        if is_session_id(cookie_value):
            with self._errors():
                await in_order_async(self._async(), self._deleting(cookie_value))

    # Saving, in this order (one pipeline on one server, one command at a time on a
    # Cluster): the sid's index, the record, a look at the revoked sids, the change
    # published. A revocation records the sid, then reads the index, then deletes:
    # either it finds this session in the index, or this save finds the sid revoked
    # (and deletes what it saved).

    def _saving(self, record: SessionRecord, ttl: int, write: Command) -> list[Command]:
        sid = _sid(record)
        if sid is None:
            return [write, self._announce(session_changed(record.id))]
        index: Command = ("eval", (_INDEX, 1, self._index_key(sid), record.id, _seconds(ttl)), {})
        revoked: Command = ("exists", (self._revoked_key(sid),), {})
        return [index, write, revoked, self._announce(session_changed(record.id))]

    def _wrote(self, replies: Sequence[Any], record: SessionRecord) -> None:
        if _sid(record) is not None and replies[_REVOKED_REPLY]:  # saved, but revoked
            in_order(self._sync(), self._deleting(record.id))

    async def _awrote(self, replies: Sequence[Any], record: SessionRecord) -> None:
        if _sid(record) is not None and replies[_REVOKED_REPLY]:
            await in_order_async(self._async(), self._deleting(record.id))

    def _deleting(self, session_id: str) -> list[Command]:
        keys = (self.key(session_id), self.claim_key(session_id))
        return [("delete", keys, {}), self._announce(session_changed(session_id))]

    def _announce(self, message: bytes) -> Command:
        return ("publish", (self.channel, message), {})

    @property
    def channel(self) -> str:
        """The pub/sub channel on which this store's writes are announced."""
        return change_channel(self.prefix)

    def _index_key(self, sid: str) -> str:
        return f"{self.prefix}sid-sessions:{sid}"

    # Refresh claims. A refresh rotates the session's refresh token at Authonomy before
    # the new one is saved here; if Redis fails in between, the record left here holds
    # a spent token. The claim, written before the rotation and removed only with the
    # save, marks such a record so that no process refreshes from it.

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Mark the session as being refreshed by the holder of ``claim`` (``ttl`` s)."""
        with self._errors():
            self._sync().eval(_CLAIM, 1, self.claim_key(session_id), claim, max(1, int(ttl)))

    def save_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Save ``record`` and drop the claim, only if ``claim`` still holds the session;
        the cookie value, or ``None`` (nothing saved) when the claim is gone."""
        write: Command = ("eval", self._save_claimed(record, ttl, claim), {})
        steps = self._saving(record, ttl, write)
        with self._errors():
            replies = in_order(self._sync(), steps)
            self._wrote(replies, record)
        return record.id if replies[steps.index(write)] else None

    def refresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """The claim of an unsaved refresh of the session and when it was first seen (the
        first caller's ``now``), or ``None`` when no refresh is unsaved."""
        with self._errors():
            found = self._sync().eval(_INSPECT_CLAIM, 1, self.claim_key(session_id), repr(now))
        return _claim_seen(found)

    def drop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Remove the session's claim if ``claim`` still holds it; whether it did."""
        with self._errors():
            return bool(self._sync().eval(_DROP_CLAIM, 1, self.claim_key(session_id), claim))

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Awaitable :meth:`claim_refresh`."""
        with self._errors():
            await self._async().eval(_CLAIM, 1, self.claim_key(session_id), claim, max(1, int(ttl)))

    async def asave_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Awaitable :meth:`save_refreshed`."""
        write: Command = ("eval", self._save_claimed(record, ttl, claim), {})
        steps = self._saving(record, ttl, write)
        with self._errors():
            replies = await in_order_async(self._async(), steps)
            await self._awrote(replies, record)
        return record.id if replies[steps.index(write)] else None

    async def arefresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """Awaitable :meth:`refresh_claimed`."""
        with self._errors():
            found = await self._async().eval(
                _INSPECT_CLAIM, 1, self.claim_key(session_id), repr(now)
            )
        return _claim_seen(found)

    async def adrop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Awaitable :meth:`drop_refresh_claim`."""
        with self._errors():
            dropped = await self._async().eval(_DROP_CLAIM, 1, self.claim_key(session_id), claim)
        return bool(dropped)

    def _save_claimed(self, record: SessionRecord, ttl: int, claim: str) -> tuple[Any, ...]:
        keys = (self.key(record.id), self.claim_key(record.id))
        return (_SAVE_CLAIMED, 2, *keys, claim, _value(record), _seconds(ttl))

    # Ended Authonomy sessions (``sid``), shared by every process using this Redis: their
    # access tokens are refused everywhere, not only in the process that saw the logout.

    def _revoked_key(self, sid: str) -> str:
        return f"{self.prefix}revoked-sid:{sid}"

    def revoke_sid(self, sid: str, ttl: int) -> None:
        """Record Authonomy session ``sid`` as ended for ``ttl`` seconds and delete its
        stored sessions; every worker is told to forget its cached sessions."""
        client = self._sync()
        with self._errors():
            client.set(self._revoked_key(sid), b"1", ex=_seconds(ttl))
            ids = client.smembers(self._index_key(sid))
            in_order(client, self._ending(ids))

    def is_sid_revoked(self, sid: str) -> bool:
        """Whether Authonomy session ``sid`` was recorded as ended."""
        with self._errors():
            return bool(self._sync().exists(self._revoked_key(sid)))

    async def arevoke_sid(self, sid: str, ttl: int) -> None:
        """Awaitable :meth:`revoke_sid`."""
        client = self._async()
        with self._errors():
            await client.set(self._revoked_key(sid), b"1", ex=_seconds(ttl))
            ids = await client.smembers(self._index_key(sid))
            await in_order_async(client, self._ending(ids))

    def _ending(self, ids: Any) -> list[Command]:
        deletes: list[Command] = [
            ("delete", (self.key(text), self.claim_key(text)), {})
            for text in map(_text, ids)
            if is_session_id(text)
        ]
        return [*deletes, self._announce(EVERY_SESSION)]

    async def ais_sid_revoked(self, sid: str) -> bool:
        """Awaitable :meth:`is_sid_revoked`."""
        with self._errors():
            return bool(await self._async().exists(self._revoked_key(sid)))

    # Login starts, counted for every process using this Redis (see the login throttle).

    def _login_key(self, bucket: str) -> str:
        return f"{self.prefix}login-starts:{bucket}"

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        """Count one login start in ``bucket`` (a window of ``window`` seconds from its
        first start): the starts counted in it, and the seconds it has left."""
        with self._errors():
            found = self._sync().eval(_COUNT_START, 1, self._login_key(bucket), window)
        return _counted(found, window)

    async def acount_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        """Awaitable :meth:`count_login_start`."""
        with self._errors():
            found = await self._async().eval(_COUNT_START, 1, self._login_key(bucket), window)
        return _counted(found, window)

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """The session's lock across processes; raises ``SessionError`` after waiting
        ``lock_timeout`` seconds for it."""
        return self._hold(session_id)

    def alock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Same as :meth:`lock`, for tasks."""
        return self._ahold(session_id)

    def _redis_lock(self, client: Any, session_id: str) -> Any:
        # redis-py's lock, blocking or asyncio alike: SET NX PX, released by its holder.
        return client.lock(
            self.lock_key(session_id),
            timeout=self.lock_timeout,
            blocking_timeout=self.lock_timeout,
            sleep=_LOCK_POLL,
            raise_on_release_error=False,
        )

    def _gave_up(self) -> SessionError:
        return SessionError(f"gave up waiting {self.lock_timeout}s for the session lock")

    @contextmanager
    def _hold(self, session_id: str) -> Iterator[None]:
        lock = self._redis_lock(self._sync(), session_id)
        with self._errors():
            acquired = lock.acquire()
        if not acquired:
            raise self._gave_up()
        try:
            yield
        finally:
            # The lock expires by itself; failing to release it must not hide the
            # outcome of the work it guarded.
            with suppress(self._clients.redis.exceptions.RedisError):
                lock.release()

    @asynccontextmanager
    async def _ahold(self, session_id: str) -> AsyncIterator[None]:
        lock = self._redis_lock(self._async(), session_id)
        with self._errors():
            acquired = await lock.acquire()
        if not acquired:
            raise self._gave_up()
        try:
            yield
        finally:
            with suppress(self._clients.redis.exceptions.RedisError):
                await lock.release()

    # The local cache: the engine keeps decoded sessions for ``local_cache_ttl``
    # seconds and this store tells it what other workers changed.

    def follow_changes(self, forget: Forget) -> None:
        """Call ``forget(session_id)`` when any worker changes a session and
        ``forget(None)`` when any may have changed; only with ``local_cache_ttl``."""
        if not self.local_cache_ttl:
            return
        if self._listener is None:
            self._listener = ChangeListener(
                lambda: self._sync().pubsub(),
                self.channel,
                (self._clients.redis.exceptions.RedisError, OSError),
            )
        self._listener.add(forget)

    @property
    def following_changes(self) -> bool:
        """Whether other workers' changes are being received now (``False`` without a
        local cache, and while Redis is out of reach)."""
        return self._listener is not None and self._listener.subscribed

    def changes_received(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds until every change published before this call
        has reached this worker's local cache; whether it has (``False`` without a local
        cache or while Redis is out of reach). For tests that count on a warm cache."""
        listener = self._listener
        if listener is None or not listener.wait_subscribed(timeout):
            return False
        marker, read = listener.mark()
        try:
            with self._errors():
                self._sync().publish(self.channel, marker)
            return read.wait(timeout)
        finally:
            listener.unmark(marker)

    def close(self) -> None:
        """Stop following changes and close the blocking client this store created
        (clients passed in are left open)."""
        if self._listener is not None:
            self._listener.close()
        self._clients.close()

    async def aclose(self) -> None:
        """Close the asyncio client this store created (clients passed in are left open)."""
        await self._clients.aclose()


def _cache_ttl(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigurationError("local_cache_ttl", "must be a number of seconds, 0 or more")
    return float(value)


def _seconds(ttl: float) -> int:
    return max(1, int(ttl))


def _sid(record: SessionRecord) -> str | None:
    sid = record.claims.get("sid")
    return sid if isinstance(sid, str) and sid else None


def _value(record: SessionRecord) -> bytes:
    return _INDEXED + record.to_bytes()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _claim_seen(found: Any) -> tuple[str, float] | None:
    if not found:
        return None
    owner, seen = found
    return _text(owner), float(_text(seen))


def _decode(data: Any, session_id: str) -> tuple[SessionRecord | None, str | None]:
    """The record stored for ``session_id`` and, when it was saved without its sid
    indexed (by an earlier version), that sid: a revocation may have missed it."""
    if isinstance(data, str):  # a client created with decode_responses=True
        data = data.encode("utf-8")
    if not isinstance(data, bytes):
        return None, None
    indexed = data.startswith(_INDEXED)
    record = SessionRecord.from_bytes(data[len(_INDEXED) :] if indexed else data)
    if record is None or record.id != session_id:
        return None, None
    return record, None if indexed else _sid(record)


def _counted(found: Any, window: int) -> tuple[int, float]:
    """``_COUNT_START``'s answer as ``(count, seconds left)``."""
    count, left_ms = int(found[0]), int(found[1])
    return count, left_ms / 1000 if left_ms > 0 else float(window)
