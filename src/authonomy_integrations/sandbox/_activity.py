"""What the console shows: recent logins, token sets and revoked sessions.

Each kind keeps only its last ``limit`` entries, so a sandbox left running for days does
not grow without bound. Entries hold no token or secret: only who, which customer,
which session and what happened.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from ._clock import Clock

__all__ = ["ActivityLog", "LoginEntry", "RevokedEntry", "TokenEntry"]

#: How many entries of each kind the console keeps.
DEFAULT_HISTORY = 500


@dataclass(frozen=True)
class LoginEntry:
    """A finished sign-in: completed by a code exchange, or cancelled, refused or failed."""

    at: float
    user: str | None
    customer_id: str | None
    customer_name: str | None
    mfa: bool | None
    ok: bool
    result: str


@dataclass(frozen=True)
class TokenEntry:
    """A token set handed out by ``/auth/token`` (issued) or ``/auth/refresh`` (refreshed)."""

    at: float
    kind: str
    user: str
    customer_id: str
    customer_name: str | None
    session_id: str
    expires_at: float


@dataclass(frozen=True)
class RevokedEntry:
    """A session ended by logout or by reuse detection."""

    at: float
    user: str
    customer_id: str
    customer_name: str | None
    session_id: str
    reason: str


class ActivityLog:
    """Bounded, thread-safe history of the sandbox's sign-in activity."""

    def __init__(self, clock: Clock, limit: int = DEFAULT_HISTORY) -> None:
        if limit <= 0:
            raise ValueError("the activity history limit must be positive")
        self._clock = clock
        self._lock = threading.Lock()
        self._logins: deque[LoginEntry] = deque(maxlen=limit)
        self._tokens: deque[TokenEntry] = deque(maxlen=limit)
        self._revoked: deque[RevokedEntry] = deque(maxlen=limit)

    def login(
        self,
        *,
        user: str | None,
        customer: tuple[str, str | None] | None,
        mfa: bool | None,
        ok: bool,
        result: str,
    ) -> None:
        """Record a finished sign-in; ``customer`` is ``(id, name)`` when known."""
        customer_id, customer_name = customer or (None, None)
        entry = LoginEntry(self._clock.now(), user, customer_id, customer_name, mfa, ok, result)
        with self._lock:
            self._logins.append(entry)

    def token(
        self,
        kind: str,
        *,
        user: str,
        customer: tuple[str, str | None],
        session_id: str,
        expires_in: int,
    ) -> None:
        """Record a token set ``kind`` (``issued`` or ``refreshed``) for a session."""
        now = self._clock.now()
        entry = TokenEntry(now, kind, user, *customer, session_id, now + expires_in)
        with self._lock:
            self._tokens.append(entry)

    def revoked(
        self, *, user: str, customer: tuple[str, str | None], session_id: str, reason: str
    ) -> None:
        """Record a session ended for ``reason`` (``logout``, ``code_reuse``, ...)."""
        entry = RevokedEntry(self._clock.now(), user, *customer, session_id, reason)
        with self._lock:
            self._revoked.append(entry)

    @property
    def logins(self) -> list[LoginEntry]:
        """Recorded sign-ins, newest first."""
        with self._lock:
            return list(reversed(self._logins))

    @property
    def tokens(self) -> list[TokenEntry]:
        """Recorded token sets, newest first."""
        with self._lock:
            return list(reversed(self._tokens))

    @property
    def revoked_sessions(self) -> list[RevokedEntry]:
        """Recorded session ends, newest first."""
        with self._lock:
            return list(reversed(self._revoked))
