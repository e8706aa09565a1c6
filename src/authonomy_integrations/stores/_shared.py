"""``SharedSessionStore``: what a session store that several processes share must offer,
and how the kit tells a session store from an object that only looks like one."""

from __future__ import annotations

from typing import Generic, Protocol, TypeGuard, runtime_checkable

from .._core.sessions import SessionRecord
from .._errors import ConfigurationError
from ._base import SessionStore

__all__ = ["SharedSessionStore", "checked_session_store", "shares_refreshes"]


@runtime_checkable
class SharedSessionStore(SessionStore, Protocol):
    """A :class:`SessionStore` that several worker processes (or hosts) read and write:
    Redis, or a database of your own.

    Besides everything a session store does, it must

    - say so: ``local_cache_ttl = 0`` (another process may change a session at any
      moment, so every request loads it) and ``shares_revocations = True``;
    - record ended Authonomy sessions (:meth:`revoke_sid`) for every process;
    - hold one lock per session across every process (:meth:`lock`, :meth:`alock`);
    - keep *refresh claims*. Authonomy rotates a refresh token when it is used. The
      process about to refresh first writes a claim (:meth:`claim_refresh`); the new
      record is saved, and the claim removed, in one atomic step that happens only while
      that claim still holds (:meth:`save_refreshed`). If the store fails in between,
      the claim stays behind, and other processes that find it
      (:meth:`refresh_claimed`) do not present the spent token.

    Each method has an awaitable twin for the event loop, spelled out below. A store
    with only some of these methods is refused at start-up, never half used. Check a
    store of your own with :mod:`authonomy_integrations.testing.store_contract`.
    """

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Mark the session as being refreshed by the holder of ``claim``, for ``ttl``
        seconds; a claim already there is replaced (the caller holds the session lock)."""
        ...

    def save_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Atomically: if ``claim`` still holds ``record``'s session, save ``record`` for
        ``ttl`` seconds, drop the claim and return the cookie value; else save nothing and
        return ``None``."""
        ...

    def refresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """The claim on the session and when it was first seen (the ``now`` of the first
        call that found it; later calls answer that same time), or ``None``."""
        ...

    def drop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Remove the session's claim if ``claim`` still holds it; whether it did."""
        ...

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        """Awaitable :meth:`claim_refresh`."""
        ...

    async def asave_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        """Awaitable :meth:`save_refreshed`."""
        ...

    async def arefresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        """Awaitable :meth:`refresh_claimed`."""
        ...

    async def adrop_refresh_claim(self, session_id: str, claim: str) -> bool:
        """Awaitable :meth:`drop_refresh_claim`."""
        ...


def _members(protocol: type) -> set[str]:
    """The public methods and attributes ``protocol`` declares, its bases' included."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass not in (Protocol, Generic, object):
            names.update(name for name in vars(klass) if not name.startswith("_"))
            names.update(vars(klass).get("__annotations__", {}))
    return names


def _missing(store: object, protocol: type) -> list[str]:
    return sorted(name for name in _members(protocol) if not hasattr(store, name))


#: What only a shared store has: an object with some of it means to be one.
_SHARED_ONLY = _members(SharedSessionStore) - _members(SessionStore)


def checked_session_store(store: object) -> SessionStore:
    """``store`` if it is a :class:`SessionStore`, else a :class:`ConfigurationError`
    naming what it lacks."""
    if isinstance(store, SessionStore):
        return store
    lacking = ", ".join(_missing(store, SessionStore))
    raise ConfigurationError(
        "session_store",
        f"{type(store).__name__} is not a session store (see stores.SessionStore): "
        f"it lacks {lacking}",
    )


def shares_refreshes(store: SessionStore) -> TypeGuard[SharedSessionStore]:
    """Whether ``store`` keeps refresh claims (a :class:`SharedSessionStore`).

    A store with only some of a shared store's methods is refused: running it as a plain
    store would silently drop the claims that protect its users' sessions.
    """
    if isinstance(store, SharedSessionStore):
        return True
    if any(hasattr(store, name) for name in _SHARED_ONLY):
        lacking = ", ".join(_missing(store, SharedSessionStore))
        raise ConfigurationError(
            "session_store",
            f"{type(store).__name__} keeps refresh claims only in part (see "
            f"stores.SharedSessionStore): it lacks {lacking}",
        )
    return False
