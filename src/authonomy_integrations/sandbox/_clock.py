"""The sandbox's clock: real time plus an offset that tests can advance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

__all__ = ["Clock", "isoformat"]


class Clock:
    """Wall-clock time shifted by an offset, so expiry is testable without sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current sandbox time in Unix seconds."""
        # No lock: reading one attribute is atomic, and an app given this clock reads it
        # on every request. The lock only keeps concurrent advances from losing one.
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward; codes, grace windows and rate windows see the jump."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds


def isoformat(timestamp: float) -> str:
    """Unix seconds as an ISO 8601 UTC string with a ``Z`` suffix, as the API writes times."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
