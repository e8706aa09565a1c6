"""How the runtimes perform the session store's effects: each effect calls one method of
:class:`~.stores.SessionStore` or of an ability the store declares
(:class:`~.stores.SharedSessionStore`, :class:`~.stores.CountsLoginStarts`,
:class:`~.stores.ListsUserSessions`), the blocking one for threads and its awaitable twin
for the event loop, each spelled out so that a type checker holds both tables to the
protocols. Which abilities a store has is read from its declaration
(``stores/_declared.py``), never from its method names."""

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
from .stores._declared import counts_login_starts, lists_user_sessions, shares_refreshes
from .stores._shared import CountsLoginStarts, ListsUserSessions, SharedSessionStore

__all__ = ["async_store_handlers", "blocking_store_handlers"]

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
    if counts_login_starts(store):
        handlers.update(_blocking_counts(store))
    handlers.update(_blocking_index(store if lists_user_sessions(store) else _NoIndex()))
    return handlers


def _blocking_counts(counter: CountsLoginStarts) -> Handlers:
    return {CountLoginStart: lambda e: counter.count_login_start(e.key, e.window)}


def _blocking_index(index: ListsUserSessions) -> Handlers:
    return {
        IndexSession: lambda e: index.index_session(e.user_id, e.session_id, e.deadline, e.ttl),
        IndexedSessions: lambda e: index.indexed_sessions(e.user_id, e.now),
        UnindexSession: lambda e: index.unindex_session(e.user_id, e.session_id),
    }


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
    if counts_login_starts(store):
        handlers.update(_async_counts(store))
    handlers.update(_async_index(store if lists_user_sessions(store) else _NoIndex()))
    return handlers


def _async_counts(counter: CountsLoginStarts) -> AsyncHandlers:
    return {CountLoginStart: lambda e: counter.acount_login_start(e.key, e.window)}


def _async_index(index: ListsUserSessions) -> AsyncHandlers:
    return {
        IndexSession: lambda e: index.aindex_session(e.user_id, e.session_id, e.deadline, e.ttl),
        IndexedSessions: lambda e: index.aindexed_sessions(e.user_id, e.now),
        UnindexSession: lambda e: index.aunindex_session(e.user_id, e.session_id),
    }


def _async_claims(store: SharedSessionStore) -> AsyncHandlers:
    return {
        ClaimRefresh: lambda e: store.aclaim_refresh(e.session_id, e.claim, e.ttl),
        SaveRefreshed: lambda e: store.asave_refreshed(e.record, e.ttl, e.claim),
        RefreshClaimed: lambda e: store.arefresh_claimed(e.session_id, e.now),
        DropRefreshClaim: lambda e: store.adrop_refresh_claim(e.session_id, e.claim),
    }


class _NoIndex(ListsUserSessions):
    """The index of a store that does not declare :class:`~.stores.ListsUserSessions`
    (the cookie store): empty."""

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
