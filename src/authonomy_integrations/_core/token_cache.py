"""A bounded, expiring cache consulted on every request.

Its first use is verified tokens: verifying a signature costs tens of microseconds, a hit
here a dict lookup and one comparison, and an entry never outlives its token's ``exp``.
Use one cache per kind of token: a hit means "verified with the options this cache
serves". The engine also keeps decoded sessions and logged-out session ids in one
(:meth:`TokenCache.keep` with an explicit expiry).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["TokenCache"]


class TokenCache:
    """Values by token (or other string key) until their expiry, at most ``maxsize``.

    Safe to share between threads: :meth:`get` relies only on single dict operations,
    which are atomic under the GIL, and :meth:`put` serialises eviction.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: dict[str, tuple[float, Any]] = {}
        self._put_lock = threading.Lock()
        #: Counts :meth:`clear` and :meth:`discard` calls; see :meth:`attach`.
        self.generation = 0
        self._memos: list[dict[Any, Any]] = []

    def get(self, token: str, now: float) -> Any:
        """What was cached for an unexpired token (its claims, or the ``value`` given to
        :meth:`put`); ``None`` on a miss. An expired entry is dropped."""
        entry = self.entry(token, now)
        return None if entry is None else entry[1]

    def entry(self, token: str, now: float) -> tuple[float, Any] | None:
        """Like :meth:`get`, but the entry itself: ``(expiry, value)``."""
        entry = self._entries.get(token)
        if entry is None or now < entry[0]:
            return entry
        self._entries.pop(token, None)
        return None

    def attach(self, memo: dict[Any, Any]) -> None:
        """Clear ``memo`` whenever entries are withdrawn (:meth:`clear`, :meth:`discard`).

        A memo holds copies of entries (see :meth:`entry`) keyed some other way, and
        answers with them until their expiry without asking this cache. Whoever adds to
        it reads :attr:`generation` before looking the entry up and drops what it added
        when the generation has moved since: the entry may have been withdrawn between
        the lookup and the addition.
        """
        self._memos.append(memo)

    def put(self, token: str, claims: Mapping[str, Any], value: Any = None) -> None:
        """Cache a token that has just been verified, until its ``exp``.

        What :meth:`get` returns is ``value`` when given (say, the user built from the
        claims, so a hit costs no construction), else a read-only copy of the claims.
        Tokens without a numeric ``exp`` are not cached. When full, the oldest insertion
        is evicted.
        """
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return
        self.keep(token, MappingProxyType(dict(claims)) if value is None else value, float(exp))

    def keep(self, key: str, value: Any, until: float) -> None:
        """Cache ``value`` under ``key`` until the time ``until`` (evicting the oldest)."""
        token, entry = key, (until, value)
        with self._put_lock:
            while len(self._entries) >= self.maxsize and token not in self._entries:
                self._evict_oldest()
            self._entries[token] = entry

    def _evict_oldest(self) -> None:
        # `get` may drop entries concurrently (it takes no lock), which can make the
        # iterator complain or find the dict empty; either way there is room now or
        # the loop in `put` tries again.
        try:
            oldest = next(iter(self._entries))
        except (RuntimeError, StopIteration):
            return
        self._entries.pop(oldest, None)

    def discard(self, token: str) -> None:
        """Forget one token, for example when its session is logged out."""
        self.generation += 1
        self._entries.pop(token, None)
        self._clear_memos()

    def clear(self) -> None:
        """Forget every token, for example when a signing key is withdrawn."""
        # The generation moves first. A memo writer that still reads the old one after
        # adding its copy added it before this point, and the memos are cleared below;
        # one that reads the new one drops its copy itself.
        self.generation += 1
        self._entries.clear()
        self._clear_memos()

    def _clear_memos(self) -> None:
        for memo in self._memos:
            memo.clear()

    def __len__(self) -> int:
        return len(self._entries)
