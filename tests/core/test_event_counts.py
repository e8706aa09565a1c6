"""``Events.counts`` stays exact when many threads count at once (a threaded WSGI server
answering repeat callers), and reading the counts changes none of them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from authonomy_integrations._core.events import REPEAT, TOKEN_ACCEPTED, Events

THREADS = 8
EACH = 3_000


@contextmanager
def switching_between_every_bytecode() -> Iterator[None]:
    """Let the interpreter switch threads between any two bytecodes of the threads
    started inside, as a free-threaded or differently tuned interpreter may: a counter
    whose read and write are separate steps then loses increments."""

    def tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        frame.f_trace_opcodes = True
        return lambda *_: None

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    threading.settrace(tracer)
    try:
        yield
    finally:
        threading.settrace(None)  # type: ignore[arg-type]
        sys.setswitchinterval(interval)


def _in_threads(work: Callable[[], None]) -> None:
    with switching_between_every_bytecode():
        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def test_repeats_counted_from_many_threads_are_all_counted() -> None:
    events = Events()
    repeat = events.tally.adder(REPEAT)  # how the caller's fast path counts

    def work() -> None:
        for _ in range(EACH):
            repeat()
            events.count(REPEAT)

    _in_threads(work)
    assert events.counts[REPEAT] == 2 * THREADS * EACH


def test_decisions_counted_from_many_threads_are_all_counted() -> None:
    events = Events(hook=lambda event: None)

    def work() -> None:
        for _ in range(EACH // 10):
            events.emit(TOKEN_ACCEPTED, "verified")

    _in_threads(work)
    assert events.counts[(TOKEN_ACCEPTED, "verified")] == THREADS * (EACH // 10)


def test_reading_the_counts_while_threads_count_changes_nothing() -> None:
    events = Events()
    readings: list[int] = []

    def work() -> None:
        for n in range(EACH):
            events.count(REPEAT)
            if n % 100 == 0:
                readings.append(events.counts[REPEAT])

    _in_threads(work)
    assert events.counts[REPEAT] == THREADS * EACH
    assert events.counts[REPEAT] == THREADS * EACH  # a read is no count
    assert all(0 < reading <= THREADS * EACH for reading in readings)


def test_a_key_never_counted_reads_zero() -> None:
    events = Events()
    assert events.counts[REPEAT] == 0
    assert events.tally.get(REPEAT) == 0
