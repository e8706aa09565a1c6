"""The check every session store's lock must pass: while one holder has a session's lock,
a second contender (another thread or task, or another client of the same store) waits,
and gets in once the first lets go."""

from __future__ import annotations

import asyncio
import threading

from authonomy_integrations._core.sessions import new_session_id
from authonomy_integrations.stores import SessionStore

#: How long the second contender is watched while the first holds the lock.
HELD_WINDOW = 0.3
#: How long anything that should happen may take before the test gives up.
PATIENCE = 10.0


def assert_lock_serializes(first: SessionStore, second: SessionStore) -> None:
    """``second.lock`` waits (in another thread) while ``first.lock`` holds a session."""
    session_id = new_session_id()
    order: list[str] = []
    waiting, entered = threading.Event(), threading.Event()

    def contender() -> None:
        waiting.set()
        with second.lock(session_id):
            order.append("second in")
            entered.set()

    with first.lock(session_id):
        order.append("first in")
        thread = threading.Thread(target=contender)
        thread.start()
        assert waiting.wait(PATIENCE)
        assert not entered.wait(HELD_WINDOW), "the second got in while the lock was held"
        order.append("first out")
    assert entered.wait(PATIENCE)
    thread.join(PATIENCE)
    assert order == ["first in", "first out", "second in"]


async def assert_alock_serializes(first: SessionStore, second: SessionStore) -> None:
    """``second.alock`` waits (in another task) while ``first.alock`` holds a session."""
    session_id = new_session_id()
    order: list[str] = []
    waiting = asyncio.Event()

    async def contender() -> None:
        waiting.set()
        async with second.alock(session_id):
            order.append("second in")

    async with first.alock(session_id):
        order.append("first in")
        task = asyncio.create_task(contender())
        await asyncio.wait_for(waiting.wait(), PATIENCE)
        done, _ = await asyncio.wait({task}, timeout=HELD_WINDOW)
        assert not done, "the second got in while the lock was held"
        order.append("first out")
    await asyncio.wait_for(task, PATIENCE)
    assert order == ["first in", "first out", "second in"]
