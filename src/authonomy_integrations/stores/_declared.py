"""How the kit reads a session store: what it must offer is checked once, at start-up,
and what it may offer is read from what it declares, never guessed from its methods.

A store declares an optional ability by naming its protocol (``stores/_shared.py``)
among its class's bases. :func:`checked_session_store` refuses, naming what to fix,

- an object that lacks part of :class:`~._base.SessionStore`;
- a store that declares an ability but leaves one of its members to the protocol's
  placeholder (an inherited ``...`` body would answer ``None`` at the first request);
- a store that has an ability's methods without declaring it: the kit would otherwise
  ignore them silently, and a shared store would run without its refresh claims, or a
  login throttle count in one process only.

The guards below (:func:`shares_refreshes`, :func:`counts_login_starts` ...) then only
look at the declaration.
"""

from __future__ import annotations

from typing import TypeGuard

from .._errors import ConfigurationError
from ._base import SessionStore
from ._shared import (
    ABILITIES,
    ClosesClients,
    CountsLoginStarts,
    EndsRevokedSessions,
    FollowsChanges,
    ListsUserSessions,
    ServesAsyncio,
    SharedSessionStore,
)

__all__ = [
    "checked_session_store",
    "closes_clients",
    "counts_login_starts",
    "declares",
    "ends_revoked_sessions",
    "follows_changes",
    "lists_user_sessions",
    "serves_asyncio",
    "shares_refreshes",
]

_PROTOCOLS = (SessionStore, *ABILITIES)
#: Abilities whose methods are refused unless declared: ignoring them would silently
#: weaken what the store's author meant (claims, throttle, sign out everywhere).
_MUST_DECLARE = (
    SharedSessionStore,
    CountsLoginStarts,
    ListsUserSessions,
    FollowsChanges,
    EndsRevokedSessions,
    ServesAsyncio,
)


def _members(protocol: type) -> set[str]:
    """The public methods and attributes ``protocol`` declares, its bases' included."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass in _PROTOCOLS:
            names.update(name for name in vars(klass) if not name.startswith("_"))
            names.update(vars(klass).get("__annotations__", {}))
    return names


def _own_members(ability: type) -> set[str]:
    """What only ``ability`` declares (not the :class:`SessionStore` it may extend)."""
    return _members(ability) - _members(SessionStore)


def _provides(store: object, name: str) -> bool:
    """Whether ``store`` has ``name`` of its own, not only a protocol's placeholder."""
    if not hasattr(store, name):
        return False
    if name in getattr(store, "__dict__", {}):
        return True  # set on the instance
    for klass in type(store).__mro__:
        if name in vars(klass):
            return klass not in _PROTOCOLS
    return True  # answered by the class's __getattr__


def _lacking(store: object, protocol: type) -> list[str]:
    return sorted(name for name in _members(protocol) if not _provides(store, name))


def declares(store: object, ability: type) -> bool:
    """Whether ``store``'s class names ``ability`` among its bases."""
    return ability in type(store).__mro__


def checked_session_store(store: object) -> SessionStore:
    """``store`` if it offers all of :class:`SessionStore` and every ability it declares,
    and declares every ability whose methods it has; else a :class:`ConfigurationError`
    naming what to fix."""
    lacking = _lacking(store, SessionStore)
    if lacking or not isinstance(store, SessionStore):
        raise ConfigurationError(
            "session_store",
            f"{type(store).__name__} is not a session store (see stores.SessionStore): "
            f"it lacks {', '.join(lacking)}",
        )
    for ability in ABILITIES:
        _check_ability(store, ability)
    return store


def _check_ability(store: object, ability: type) -> None:
    kind, name = type(store).__name__, ability.__name__
    lacking = _lacking(store, ability)
    if declares(store, ability):
        if lacking:
            raise ConfigurationError(
                "session_store", f"{kind} declares stores.{name} but it lacks {', '.join(lacking)}"
            )
        return
    own = _own_members(ability)
    found = sorted(member for member in own if _provides(store, member))
    if found and ability in _MUST_DECLARE:
        also = [member for member in lacking if member in own]
        raise ConfigurationError(
            "session_store",
            f"{kind} has {', '.join(found)} but does not declare stores.{name}, so the kit "
            f"would ignore them: name {name} among its bases"
            + (f"; it lacks {', '.join(also)}" if also else ""),
        )


def shares_refreshes(store: SessionStore) -> TypeGuard[SharedSessionStore]:
    """Whether ``store`` declares :class:`SharedSessionStore` (it keeps refresh claims)."""
    return declares(store, SharedSessionStore)


def counts_login_starts(store: SessionStore) -> TypeGuard[CountsLoginStarts]:
    """Whether ``store`` declares :class:`CountsLoginStarts`."""
    return declares(store, CountsLoginStarts)


def lists_user_sessions(store: SessionStore) -> TypeGuard[ListsUserSessions]:
    """Whether ``store`` declares :class:`ListsUserSessions`."""
    return declares(store, ListsUserSessions)


def follows_changes(store: SessionStore) -> TypeGuard[FollowsChanges]:
    """Whether ``store`` declares :class:`FollowsChanges`."""
    return declares(store, FollowsChanges)


def _ends_revoked(store: SessionStore) -> TypeGuard[EndsRevokedSessions]:
    return declares(store, EndsRevokedSessions)


def ends_revoked_sessions(store: SessionStore) -> bool:
    """Whether ``store`` declares :class:`EndsRevokedSessions` and keeps that promise."""
    return _ends_revoked(store) and store.ends_revoked_sessions is True


def _tells_asyncio(store: SessionStore) -> TypeGuard[ServesAsyncio]:
    return declares(store, ServesAsyncio)


def serves_asyncio(store: SessionStore) -> bool:
    """Whether ``store``'s awaitable methods can run: unless it declares
    :class:`ServesAsyncio` and says otherwise, they can."""
    return not _tells_asyncio(store) or store.serves_asyncio is True


def closes_clients(store: object) -> TypeGuard[ClosesClients]:
    """Whether ``store`` declares :class:`ClosesClients`."""
    return declares(store, ClosesClients)
