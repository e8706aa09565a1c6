"""How the runtimes perform the session store's effects: each effect calls one method of
:class:`~.stores.SessionStore` or :class:`~.stores.SharedSessionStore`, the blocking one
for threads and its awaitable twin for the event loop, each spelled out so that a type
checker holds both tables to the protocols."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ._core.effects import (
    ClaimRefresh,
    CountLoginStart,
    DeleteSession,
    DropRefreshClaim,
    IndexedSessions,
    IndexSession,
    LoadSession,
    RefreshClaimed,
    RevokeSid,
    SaveRefreshed,
    SaveSession,
    SidRevoked,
    UnindexSession,
)
from .stores._base import SessionStore
from .stores._shared import SharedSessionStore, shares_refreshes

__all__ = ["async_store_handlers", "blocking_store_handlers", "counts_logins"]

Handlers = dict[type, Callable[[Any], Any]]
AsyncHandlers = dict[type, Callable[[Any], Awaitable[Any]]]


def blocking_store_handlers(store: SessionStore) -> Handlers:
    """The store's effects performed with its blocking methods."""
    handlers: Handlers = {
        LoadSession: lambda e: store.load(e.cookie_value),
        SaveSession: lambda e: store.save(e.record, e.ttl),
        DeleteSession: lambda e: store.delete(e.cookie_value),
        RevokeSid: lambda e: store.revoke_sid(e.sid, e.ttl),
        SidRevoked: lambda e: store.is_sid_revoked(e.sid),
    }
    if shares_refreshes(store):
        handlers.update(_blocking_claims(store))
    if counts_logins(store):
        counter: Any = store
        handlers[CountLoginStart] = lambda e: counter.count_login_start(e.key, e.window)
    index: Any = store if lists_sessions(store) else _NoIndex()
    handlers.update(
        {
            IndexSession: lambda e: index.index_session(e.user_id, e.session_id, e.deadline, e.ttl),
            IndexedSessions: lambda e: index.indexed_sessions(e.user_id, e.now),
            UnindexSession: lambda e: index.unindex_session(e.user_id, e.session_id),
        }
    )
    return handlers


def _blocking_claims(store: SharedSessionStore) -> Handlers:
    return {
        ClaimRefresh: lambda e: store.claim_refresh(e.session_id, e.claim, e.ttl),
        SaveRefreshed: lambda e: store.save_refreshed(e.record, e.ttl, e.claim),
        RefreshClaimed: lambda e: store.refresh_claimed(e.session_id, e.now),
        DropRefreshClaim: lambda e: store.drop_refresh_claim(e.session_id, e.claim),
    }


def async_store_handlers(store: SessionStore) -> AsyncHandlers:
    """The store's effects performed with its awaitable methods."""
    handlers: AsyncHandlers = {
        LoadSession: lambda e: store.aload(e.cookie_value),
        SaveSession: lambda e: store.asave(e.record, e.ttl),
        DeleteSession: lambda e: store.adelete(e.cookie_value),
        RevokeSid: lambda e: store.arevoke_sid(e.sid, e.ttl),
        SidRevoked: lambda e: store.ais_sid_revoked(e.sid),
    }
    if shares_refreshes(store):
        handlers.update(_async_claims(store))
    if counts_logins(store):
        counter: Any = store
        handlers[CountLoginStart] = lambda e: counter.acount_login_start(e.key, e.window)
    index: Any = store if lists_sessions(store) else _NoIndex()
    handlers.update(
        {
            IndexSession: lambda e: index.aindex_session(
                e.user_id, e.session_id, e.deadline, e.ttl
            ),
            IndexedSessions: lambda e: index.aindexed_sessions(e.user_id, e.now),
            UnindexSession: lambda e: index.aunindex_session(e.user_id, e.session_id),
        }
    )
    return handlers


def _async_claims(store: SharedSessionStore) -> AsyncHandlers:
    return {
        ClaimRefresh: lambda e: store.aclaim_refresh(e.session_id, e.claim, e.ttl),
        SaveRefreshed: lambda e: store.asave_refreshed(e.record, e.ttl, e.claim),
        RefreshClaimed: lambda e: store.arefresh_claimed(e.session_id, e.now),
        DropRefreshClaim: lambda e: store.adrop_refresh_claim(e.session_id, e.claim),
    }


def counts_logins(store: SessionStore) -> bool:
    """Whether ``store`` counts login starts for every process sharing it (the optional
    ``count_login_start`` / ``acount_login_start`` pair of ``RedisSessionStore``)."""
    return callable(getattr(store, "count_login_start", None)) and callable(
        getattr(store, "acount_login_start", None)
    )


def lists_sessions(store: SessionStore) -> bool:
    """Whether ``store`` keeps each user's sessions listed (memory, Redis): the index
    behind "sign out everywhere" and the sessions route."""
    return callable(getattr(store, "index_session", None))


class _NoIndex:
    """The index of a store that cannot list sessions (the cookie store): empty."""

    def index_session(self, user_id: str, session_id: str, deadline: float, ttl: int) -> None:
        """Nothing to keep."""

    def indexed_sessions(self, user_id: str, now: float) -> list[str]:
        """None known."""
        return []

    def unindex_session(self, user_id: str, session_id: str) -> None:
        """Nothing to forget."""

    async def aindex_session(
        self, user_id: str, session_id: str, deadline: float, ttl: int
    ) -> None:
        """Nothing to keep."""

    async def aindexed_sessions(self, user_id: str, now: float) -> list[str]:
        """None known."""
        return []

    async def aunindex_session(self, user_id: str, session_id: str) -> None:
        """Nothing to forget."""
