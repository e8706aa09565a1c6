"""Counts that stay exact under threads and cost less than a dictionary increment.

``counts[key] += 1`` on a dictionary that threads share can lose increments: two
threads read the same value and both write it plus one. A lock per increment would cost
a repeat request more than the increment itself. So each key counts with an
``itertools.count``, whose ``next()`` is one step under the GIL: no increment is lost,
and the hot path is a single call.

A count cannot be read without being advanced, so a read advances it too and remembers
how many reads it made: reads take a lock, and the increments are what ``next()``
answers minus the reads before it.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Tally"]

K = TypeVar("K", bound=Hashable)


class Tally(Generic[K]):
    """Counts by key, incremented from any thread without a lock."""

    __slots__ = ("_counters", "_lock", "_reads")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Each key's ``next`` of its ``itertools.count``: calling it counts one.
        self._counters: dict[K, Callable[[], int]] = {}
        self._reads: Counter[K] = Counter()

    def adder(self, key: K) -> Callable[[], int]:
        """A callable that counts one more ``key`` each call: bind it once where one key
        is counted on every request."""
        counter = self._counters.get(key)
        if counter is None:
            with self._lock:
                counter = self._counters.setdefault(key, itertools.count().__next__)
        return counter

    def add(self, key: K) -> None:
        """Count one more ``key``."""
        self.adder(key)()

    def get(self, key: K) -> int:
        """How many times ``key`` was counted (0 if never)."""
        with self._lock:
            return self._read(key)

    def snapshot(self) -> Counter[K]:
        """Every key's count (0 for a key never counted)."""
        with self._lock:
            return Counter({key: self._read(key) for key in list(self._counters)})

    def _read(self, key: K) -> int:
        # The lock is held: no other read advances the count in between.
        counter = self._counters.get(key)
        if counter is None:
            return 0
        reads = self._reads[key]
        self._reads[key] = reads + 1
        return counter() - reads
