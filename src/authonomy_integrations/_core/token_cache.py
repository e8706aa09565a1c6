"""A bounded, expiring cache consulted on every request.

Its first use is verified tokens: verifying a signature costs tens of microseconds, a hit
here a dict lookup and one comparison, and an entry never outlives its token's ``exp``.
Use one cache per kind of token: a hit means "verified with the options this cache
serves". The engine also keeps decoded sessions and logged-out session ids in one
(:meth:`TokenCache.keep` with an explicit expiry).

A repeat request is answered by one lookup: :meth:`TokenCache.index` files an entry
under the raw header that carried its token too (:attr:`TokenCache.by_header`), so the
next request with the same header needs no decoding, parsing or second lookup. The
index is part of the cache, so whatever withdraws entries clears it too; it is there
whoever listens to the kit's events.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

__all__ = ["TAIL", "TokenCache"]

#: How much of a header's end keys its index entry. A server hands each request new
#: bytes, and hashing a whole header (often near a kilobyte) would cost more than its
#: tail; a token's signature ends a bearer header, so the tail tells headers apart. The
#: entry keeps the whole header, compared on lookup, so two headers sharing a tail never
#: share an answer.
TAIL: Final = 32
#: Fewest headers indexed, however small the cache.
_MIN_INDEXED = 1024


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
        #: Counts :meth:`clear` and :meth:`discard` calls; see :meth:`index`.
        self.generation = 0
        #: A raw header's last :data:`TAIL` characters -> ``(the whole header, expiry,
        #: value)``: :meth:`entry` for the token the header carried, filed by
        #: :meth:`index`. Readers test the whole header and the expiry themselves.
        self.by_header: dict[bytes | str, tuple[bytes | str, float, Any]] = {}
        self._indexed = max(_MIN_INDEXED, maxsize)

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

    def index(self, header: bytes | str, token: str, now: float) -> Any:
        """:meth:`get` for ``token``, which the raw ``header`` carried; a hit is filed in
        :attr:`by_header` too, until the entry's expiry or withdrawal."""
        generation = self.generation
        entry = self.entry(token, now)
        if entry is None:
            return None
        indexed = self.by_header
        if len(indexed) >= self._indexed:
            # Start over when full: a burst of new callers only costs a parse again.
            indexed.clear()
        indexed[header[-TAIL:]] = (header, *entry)
        if self.generation != generation:  # withdrawn meanwhile: keep no copy
            indexed.clear()
        return entry[1]

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
        self.by_header.clear()

    def clear(self) -> None:
        """Forget every token, for example when a signing key is withdrawn."""
        # The generation moves first. An :meth:`index` that still reads the old one
        # after filing its copy filed it before this point, and the index is cleared
        # below; one that reads the new one drops its copy itself.
        self.generation += 1
        self._entries.clear()
        self.by_header.clear()

    def __len__(self) -> int:
        return len(self._entries)
