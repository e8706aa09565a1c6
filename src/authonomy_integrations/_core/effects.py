"""The effects a core flow asks its driver to perform.

A flow is a generator: it yields an effect, the driver performs it (sync or async) and
sends the result back in, or throws the exception the effect raised. The core itself does
no I/O, so the same flow serves Flask's threads and Starlette's event loop::

    def fetch_keys(url):
        response = yield HttpRequest("GET", url)
        return response.json()

Drivers live in :mod:`authonomy_integrations._drivers`. They find how to perform an
effect by its class, so each effect is its own class even where two carry the same
fields (``LoadSession`` and ``DeleteSession`` both hold a cookie value): the class is
the instruction, the fields its arguments. Each effect a session store performs calls
one method of its declared protocol (``stores.SessionStore``, ``stores.SharedSessionStore``),
as :mod:`authonomy_integrations._store_effects` spells out. A webhook delivery's effects
(claim, complete or release an id; run a handler) live beside its flow, in
:mod:`authonomy_integrations.webhooks._delivery`, and follow the same rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Background",
    "ClaimRefresh",
    "CountLoginStart",
    "DeleteSession",
    "DropRefreshClaim",
    "Exclusive",
    "Flow",
    "HttpRequest",
    "HttpResponse",
    "IndexSession",
    "IndexedSessions",
    "LoadSession",
    "RefreshClaimed",
    "RevokeSid",
    "SaveRefreshed",
    "SaveSession",
    "SessionExclusive",
    "SidRevoked",
    "Sleep",
    "UnindexSession",
]

T = TypeVar("T")

#: A core flow: yields effects, receives their results, returns ``T``.
Flow = Generator[Any, Any, T]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Send one HTTP request; the driver answers with an :class:`HttpResponse`.

    Transport failures (connection refused, timeout) are thrown into the flow as
    :class:`~authonomy_integrations._errors.AuthonomyUnavailableError`.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    params: Mapping[str, Any] | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP response; header names are lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``); the result is ``None``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class LoadSession:
    """Read the session behind a cookie value from the session store (``None`` if none)."""

    cookie_value: str


@dataclass(frozen=True, slots=True)
class SaveSession:
    """Write a session record for ``ttl`` seconds; the result is the cookie value to set."""

    record: Any
    ttl: int


@dataclass(frozen=True, slots=True)
class DeleteSession:
    """Forget the session behind a cookie value."""

    cookie_value: str


@dataclass(frozen=True, slots=True)
class RevokeSid:
    """Record in the session store that Authonomy session ``sid`` has ended, for ``ttl``
    seconds, so every process sharing the store refuses its tokens; result ``None``."""

    sid: str
    ttl: int


@dataclass(frozen=True, slots=True)
class CountLoginStart:
    """Count one login start in the shared store's bucket ``key``, which lasts ``window``
    seconds from its first start; the result is ``(starts in it, seconds it has left)``."""

    key: str
    window: int


@dataclass(frozen=True, slots=True)
class SidRevoked:
    """Whether the session store records Authonomy session ``sid`` as ended (a bool)."""

    sid: str


@dataclass(frozen=True, slots=True)
class Exclusive:
    """Run the flow ``start()`` returns while holding this process's lock called ``name``.

    Threads and tasks asking for the same name wait for each other, so a key-set fetch
    or a policy fetch runs once however many requests need it at the same moment. A
    request that waited ``timeout`` seconds without getting the lock gets
    :class:`~authonomy_integrations._errors.AuthonomyUnavailableError` instead (503), so a
    slow fetch never piles up requests without bound. The lock is forgotten once nobody
    holds or awaits it.
    """

    name: str
    start: Callable[[], Flow[Any]]
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class SessionExclusive:
    """Run ``start()``'s flow holding the session store's lock for ``session_id``.

    The store decides the reach of the lock: one process (memory, cookie) or every
    process that shares it (Redis).
    """

    session_id: str
    start: Callable[[], Flow[Any]]


@dataclass(frozen=True, slots=True)
class ClaimRefresh:
    """Record, in a store other processes share, that the session ``session_id`` is being
    refreshed by the holder of ``claim`` (kept ``ttl`` seconds, until its record is saved).

    Written before Authonomy rotates the refresh token: if the refreshed record cannot be
    saved, the claim stays behind and tells every process that the stored record holds a
    spent refresh token.
    """

    session_id: str
    claim: str
    ttl: int


@dataclass(frozen=True, slots=True)
class SaveRefreshed:
    """Save a refreshed ``record`` and drop its claim, only while ``claim`` still holds it.

    The answer is the cookie value, or ``None`` when the claim is gone (the store lost it,
    or another process gave up waiting and took the session over): then nothing is saved.
    """

    record: Any
    ttl: int
    claim: str


@dataclass(frozen=True, slots=True)
class RefreshClaimed:
    """Whether another refresh of ``session_id`` is still unsaved: ``None``, or the claim
    and the time (``now`` of the first process to see it) it was first seen."""

    session_id: str
    now: float


@dataclass(frozen=True, slots=True)
class DropRefreshClaim:
    """Remove the claim on ``session_id`` if ``claim`` still holds it."""

    session_id: str
    claim: str


@dataclass(frozen=True, slots=True)
class Background:
    """Start ``start()``'s flow without waiting for it (a thread or a task)."""

    start: Callable[[], Flow[Any]]


@dataclass(frozen=True, slots=True)
class IndexSession:
    """Add session ``session_id`` to user ``user_id``'s index until ``deadline`` (Unix
    seconds; the index itself is kept ``ttl`` seconds); result ``None``. A store that
    cannot list sessions (the cookie store) does nothing."""

    user_id: str
    session_id: str
    deadline: float
    ttl: int


@dataclass(frozen=True, slots=True)
class IndexedSessions:
    """The ids of user ``user_id``'s sessions indexed and not past their deadline at
    ``now`` (some may have ended since); ``[]`` from a store that cannot list them."""

    user_id: str
    now: float


@dataclass(frozen=True, slots=True)
class UnindexSession:
    """Remove session ``session_id`` from user ``user_id``'s index; result ``None``."""

    user_id: str
    session_id: str
