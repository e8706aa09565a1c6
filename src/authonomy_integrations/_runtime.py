"""The engine with I/O attached: :class:`AuthonomySync` for threads, :class:`AuthonomyAsync`
for the event loop.

Both run the same :class:`~authonomy_integrations._core.engine.Engine` flows; they differ
only in how an effect is performed (``httpx.Client`` or ``httpx.AsyncClient``, the store's
sync or async methods, ``threading`` or ``asyncio`` locks). Flask and Django under WSGI
use the first; Starlette, FastAPI and Django under ASGI the second.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import httpx

from ._config import AuthonomyConfig
from ._core.caller import Callers
from ._core.effects import Background, Exclusive, Flow, SessionExclusive
from ._core.engine import Engine, SessionState
from ._core.policies import PolicyDecision
from ._core.routes import Routes
from ._core.user import AuthonomyUser
from ._drivers import AsyncRunner, SyncRunner
from ._errors import AuthonomyUnavailableError, ConfigurationError
from ._observability import events_for
from ._store_effects import async_store_handlers, blocking_store_handlers
from ._transport import PerLoopTransport
from ._workers import watch
from .stores._base import AsyncKeyedLocks, KeyedLocks, SessionStore
from .stores._declared import (
    checked_session_store,
    counts_login_starts,
    ends_revoked_sessions,
    follows_changes,
    serves_asyncio,
    shares_refreshes,
)
from .stores._memory import MemorySessionStore
from .webhooks import WebhookEvent

__all__ = ["AuthonomyAsync", "AuthonomySync", "default_store"]

logger = logging.getLogger("authonomy_integrations")


def default_store(config: AuthonomyConfig) -> SessionStore:
    """The configured session store, or a memory store sized for one process."""
    if config.session_store is not None:
        store = checked_session_store(config.session_store)
        # Stores shared with other apps (a Redis, a cookie secret) keep each app's
        # sessions apart by its audience.
        store.bind_audience(config.audience)
        return store
    return MemorySessionStore(ttl=config.session_max_age)


def _follow_store(engine: Engine, store: SessionStore) -> None:
    """Let a shared store take part in the engine's session cache (Redis), as far as it
    declares: it may tell the engine what other processes change, and answer for
    revoked sids itself."""
    engine.sessions.store_ends_revoked = ends_revoked_sessions(store)
    if follows_changes(store):
        store.follow_changes(engine.sessions.forget)


def _unsaved_at_exit(count: int, exc: Exception) -> None:
    # What stays unsaved is lost with the process: those users sign in again.
    logger.error("%d refreshed sessions could not be saved before closing: %s", count, exc)


def _check_asyncio(store: SessionStore) -> None:
    """Refuse, at start-up, a store that cannot be awaited (a blocking Redis client only)."""
    if serves_asyncio(store):
        return
    raise ConfigurationError(
        "session_store",
        f"{type(store).__name__} has a blocking Redis client only, and this app runs on "
        "an event loop (Starlette, FastAPI, Django under ASGI): give it a redis.asyncio "
        "client (async_client=...) or a URL, or set AUTHONOMY_REDIS_URL",
    )


def _ended_sid(event: WebhookEvent) -> str | None:
    """The Authonomy session a webhook event is about, if it has one."""
    return event.session.id if event.session is not None else None


def _event_user(event: WebhookEvent) -> str | None:
    """The user a webhook event is about, if it names one."""
    return event.user.id if event.user is not None else None


def _still_busy(effect: Exclusive) -> AuthonomyUnavailableError:
    """What a request that waited too long for another one's fetch answers: 503."""
    return AuthonomyUnavailableError(
        f"still waiting for another request's {effect.name} after {effect.timeout} s",
        retry_after=effect.timeout,
    )


class _Runtime:
    """What both runtimes hold: the configuration, the session store, the engine."""

    def __init__(self, config: AuthonomyConfig, clock: Callable[[], float]) -> None:
        config.check_logins()  # at start-up, not at a user's first sign-in
        self.config = config
        self.store = default_store(config)
        watch(self.store)  # memory sessions under several workers: an ERROR naming the fix
        self.engine = Engine(
            config,
            clock=clock,
            session_cache_ttl=self.store.local_cache_ttl,
            shared_revocations=self.store.shares_revocations,
            events=events_for(config),
        )
        self.engine.sessions.claims.enabled = shares_refreshes(self.store)
        self.engine.login.shared_login_counts = counts_login_starts(self.store)
        _follow_store(self.engine, self.store)
        self.routes = Routes(self.engine)
        #: Who is calling, for the adapters: ``known`` from memory, else ``flow``.
        self.callers = Callers(self.engine)

    # Each runtime performs these its own way: threads and blocking locks, or tasks.
    _exclusive: Callable[[Exclusive], Any]
    _session_exclusive: Callable[[SessionExclusive], Any]
    _background: Callable[[Background], Any]

    def _handlers(self, *, asynchronous: bool) -> dict[type, Callable[[Any], Any]]:
        """How each effect besides HTTP and sleeping is performed: the session store's
        blocking or async methods, and the runtime's own locks and background work."""
        store = async_store_handlers if asynchronous else blocking_store_handlers
        return {
            **store(self.store),
            Exclusive: self._exclusive,
            SessionExclusive: self._session_exclusive,
            Background: self._background,
        }


class AuthonomySync(_Runtime):
    """The engine driven in the calling thread (Flask, WSGI servers, scripts)."""

    def __init__(
        self,
        config: AuthonomyConfig,
        *,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, clock)
        self._http = http_client or httpx.Client(timeout=config.http_timeout)
        if http_client is None:
            # A Flask app is rarely closed: its pooled sockets are closed when the runtime
            # is collected or the interpreter exits, not left to a ResourceWarning.
            weakref.finalize(self, self._http.close)
        self.locks = KeyedLocks()
        self.runner = SyncRunner(self._http, self._handlers(asynchronous=False))

    def _exclusive(self, effect: Exclusive) -> Any:
        try:
            with self.locks.hold(effect.name, effect.timeout):
                return self.runner.run(effect.start())
        except TimeoutError:
            raise _still_busy(effect) from None

    def _session_exclusive(self, effect: SessionExclusive) -> Any:
        with self.store.lock(effect.session_id):
            return self.runner.run(effect.start())

    def _background(self, effect: Background) -> None:
        def work() -> None:
            try:
                self.runner.run(effect.start())
            except Exception:
                logger.exception("background refresh failed")

        threading.Thread(target=work, daemon=True).start()

    def run(self, flow: Flow[Any]) -> Any:
        """Drive any engine flow to its result."""
        return self.runner.run(flow)

    def authenticate_bearer(self, token: str) -> AuthonomyUser:
        """The user of a bearer token (cached after the first verification)."""
        user = self.engine.cached_bearer(token)
        return user if user is not None else self.runner.run(self.engine.authenticate_bearer(token))

    def authenticate_session(self, cookie: str) -> SessionState:
        """The user of a session cookie, refreshed when due."""
        state = self.engine.cached_session(cookie)
        if state is not None:
            return state
        return self.runner.run(self.engine.authenticate_session(cookie))

    def logout(self, cookie: str | None) -> None:
        """See :meth:`~._core.session_flows.SessionKeeper.logout`."""
        self.runner.run(self.engine.logout(cookie))

    def check_policy(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision:
        """Evaluate a policy by name (fetched from Authonomy when not local)."""
        return self.runner.run(self.engine.check_policy(name, user, client_ip))

    def back_channel_logout(self, event: WebhookEvent) -> None:
        """A webhook handler: ``user.logged_out`` and ``session.revoked`` end the event's
        Authonomy session here (its local sessions end, its tokens are refused)."""
        flow = self.engine.back_channel_logout(event.type, _ended_sid(event), _event_user(event))
        self.runner.run(flow)

    def end_sessions(self, user_id: str) -> int:
        """End every session of ``user_id``: all devices, every worker sharing the store,
        their refresh tokens logged out at Authonomy. How many the store listed (the
        cookie store lists none, and refuses them all from now on in this process)."""
        ended: int = self.runner.run(self.engine.end_sessions(user_id))
        return ended

    def access_token(self, authorization: str | None, cookies: str | None) -> str | None:
        """The caller's access token (see ``Callers.access_token``), from the raw
        ``Authorization`` and ``Cookie`` header values."""
        token: str | None = self.runner.run(self.callers.access_token(authorization, cookies))
        return token

    def close(self) -> None:
        """Write back refreshed sessions still unsaved (if the store answers), close the
        HTTP client."""
        try:
            self.runner.run(self.engine.sessions.claims.write_back())
        except Exception as exc:
            _unsaved_at_exit(self.engine.sessions.claims.unsaved_count, exc)
        self._http.close()


class AuthonomyAsync(_Runtime):
    """The engine driven on the event loop (Starlette, FastAPI, any ASGI app)."""

    def __init__(
        self,
        config: AuthonomyConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, clock)
        _check_asyncio(self.store)
        # The runtime outlives any one event loop (a TestClient without ``with`` runs each
        # request on a new one): connections are pooled per loop.
        self._transport = PerLoopTransport()
        self._http = http_client or httpx.AsyncClient(
            timeout=config.http_timeout, transport=self._transport
        )
        # Each lock exists only while a task holds or awaits it, so none outlives its loop.
        self.locks = AsyncKeyedLocks()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.runner = AsyncRunner(self._http, self._handlers(asynchronous=True))

    async def _exclusive(self, effect: Exclusive) -> Any:
        try:
            async with self.locks.hold(effect.name, effect.timeout):
                return await self.runner.run(effect.start())
        except TimeoutError:
            raise _still_busy(effect) from None

    async def _session_exclusive(self, effect: SessionExclusive) -> Any:
        async with self.store.alock(effect.session_id):
            return await self.runner.run(effect.start())

    async def _background(self, effect: Background) -> None:
        async def work() -> None:
            try:
                await self.runner.run(effect.start())
            except Exception:
                logger.exception("background refresh failed")

        task = asyncio.get_running_loop().create_task(work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, flow: Flow[Any]) -> Any:
        """Drive any engine flow to its result."""
        return await self.runner.run(flow)

    async def authenticate_bearer(self, token: str) -> AuthonomyUser:
        """The user of a bearer token (cached after the first verification)."""
        user = self.engine.cached_bearer(token)
        if user is not None:
            return user
        result: AuthonomyUser = await self.runner.run(self.engine.authenticate_bearer(token))
        return result

    async def authenticate_session(self, cookie: str) -> SessionState:
        """The user of a session cookie, refreshed when due."""
        state = self.engine.cached_session(cookie)
        if state is not None:
            return state
        result: SessionState = await self.runner.run(self.engine.authenticate_session(cookie))
        return result

    async def logout(self, cookie: str | None) -> None:
        """See :meth:`~._core.session_flows.SessionKeeper.logout`."""
        await self.runner.run(self.engine.logout(cookie))

    async def check_policy(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision:
        """Evaluate a policy by name (fetched from Authonomy when not local)."""
        result: PolicyDecision = await self.runner.run(
            self.engine.check_policy(name, user, client_ip)
        )
        return result

    async def reset_connections(self) -> None:
        """Close the running loop's pooled connections (the app is shutting down)."""
        await self._transport.reset()

    async def back_channel_logout(self, event: WebhookEvent) -> None:
        """A webhook handler: ``user.logged_out`` and ``session.revoked`` end the event's
        Authonomy session here (its local sessions end, its tokens are refused)."""
        flow = self.engine.back_channel_logout(event.type, _ended_sid(event), _event_user(event))
        await self.runner.run(flow)

    async def end_sessions(self, user_id: str) -> int:
        """End every session of ``user_id`` (see :meth:`AuthonomySync.end_sessions`)."""
        ended: int = await self.runner.run(self.engine.end_sessions(user_id))
        return ended

    async def access_token(
        self, authorization: bytes | str | None, cookies: bytes | str | None
    ) -> str | None:
        """The caller's access token (see ``Callers.access_token``)."""
        token: str | None = await self.runner.run(self.callers.access_token(authorization, cookies))
        return token

    async def aclose(self) -> None:
        """Write back refreshed sessions still unsaved (if the store answers), stop the
        background work of the running loop, close the HTTP client."""
        try:
            await self.runner.run(self.engine.sessions.claims.write_back())
        except Exception as exc:
            _unsaved_at_exit(self.engine.sessions.claims.unsaved_count, exc)
        loop = asyncio.get_running_loop()
        # A task left pending would be destroyed with its loop, its connections unclosed.
        pending = [task for task in self._tasks if task.get_loop() is loop and not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._http.aclose()
