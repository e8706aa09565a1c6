"""Fixed one-minute windows per API key and category, as the API documents its limits."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "RateLimiter", "RateVerdict"]

#: Requests per minute per API key, by category.
DEFAULT_LIMITS: Mapping[str, int] = {"authentication": 1000, "management": 500, "analytics": 100}

_WINDOW = 60


@dataclass(frozen=True)
class RateVerdict:
    """The outcome of counting one request, and the headers that report it."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` headers, plus ``Retry-After`` when refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter:
    """Counts requests in the current window of the sandbox clock."""

    def __init__(self, limits: Mapping[str, int] | None = None) -> None:
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, identity: str, category: str, now: float) -> RateVerdict:
        """Count a request by ``identity`` in ``category`` at ``now``."""
        limit = self.limits[category]
        window = int(now // _WINDOW) * _WINDOW
        with self._lock:
            start, count = self._counts.get((identity, category), (window, 0))
            if start != window:
                count = 0
            count += 1
            self._counts[(identity, category)] = (window, count)
        reset = window + _WINDOW
        return RateVerdict(
            allowed=count <= limit,
            limit=limit,
            remaining=max(limit - count, 0),
            reset=reset,
            retry_after=max(math.ceil(reset - now), 1),
        )
