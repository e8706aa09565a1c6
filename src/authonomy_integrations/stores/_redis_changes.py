"""Session changes told to every worker through Redis pub/sub, for their local caches.

After each write a :class:`RedisSessionStore` publishes on its channel
(``<prefix>changes``): ``s:<session id>`` when one session was saved, refreshed, touched
or deleted, ``*`` when an Authonomy session was revoked (which ends every session of it,
and the engine keeps no index by ``sid``). A store with a local cache reads the channel on
a daemon thread and tells the engine to forget what changed.

Pub/sub delivers at most once: a message published while the listener is disconnected
is lost. So each (re)subscription forgets every cached session, and the cache's own
lifetime (``local_cache_ttl``) bounds what a lost message can cost. A process forked
after the listener started (``gunicorn --preload``) has no thread of its own at first:
it starts one, and forgets what it inherited.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._shared import Forget

__all__ = ["EVERY_SESSION", "ChangeListener", "Forget", "change_channel", "session_changed"]

logger = logging.getLogger("authonomy_integrations")

#: The message that means "forget every session".
EVERY_SESSION = b"*"
_ONE_SESSION = b"s:"
#: The start of a marker message: it changes nothing and tells a waiting
#: :meth:`ChangeListener.mark` that every earlier message has been read.
_MARK = b"~"
#: Seconds a listener waits for a message before checking whether it should stop.
_POLL = 0.25
#: Seconds between attempts to subscribe again after Redis failed.
_RETRY = 0.5


def change_channel(prefix: str) -> str:
    """The pub/sub channel of the stores using key prefix ``prefix``."""
    return f"{prefix}changes"


def session_changed(session_id: str) -> bytes:
    """The message telling that the session ``session_id`` changed."""
    return _ONE_SESSION + session_id.encode("ascii")


def _what_changed(data: Any) -> tuple[bool, str | None]:
    """``(True, session id or None for all)`` for a change message; ``(False, None)``
    for anything else on the channel."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data == EVERY_SESSION:
        return True, None
    if isinstance(data, bytes) and data.startswith(_ONE_SESSION):
        return True, data[len(_ONE_SESSION) :].decode("ascii", "replace")
    return False, None


#: Listeners of this process, restarted in a forked child (threads do not survive fork).
_RUNNING: weakref.WeakSet[ChangeListener] = weakref.WeakSet()


def _restart_after_fork() -> None:
    for listener in list(_RUNNING):
        listener.restart()


os.register_at_fork(after_in_child=_restart_after_fork)


class ChangeListener:
    """Reads one change channel on a daemon thread and passes each change to ``forget``.

    ``pubsub`` makes a fresh redis-py ``PubSub`` (of a blocking client: plain, Cluster or
    Sentinel-managed); ``errors`` are the exceptions after which it subscribes again.
    """

    def __init__(
        self,
        pubsub: Callable[[], Any],
        channel: str,
        errors: tuple[type[BaseException], ...],
    ) -> None:
        self._pubsub = pubsub
        self.channel = channel
        self._errors = errors
        # Engines are held weakly: a runtime dropped without closing its store is not
        # kept alive by the thread.
        self._forgets: list[Callable[[], Forget | None]] = []
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._marks: dict[bytes, threading.Event] = {}

    @property
    def subscribed(self) -> bool:
        """Whether changes are being received now."""
        return self._subscribed.is_set()

    def mark(self) -> tuple[bytes, threading.Event]:
        """A fresh marker message to publish, and the event set once this listener has
        read it (and so every message published before it)."""
        marker = _MARK + os.urandom(8).hex().encode("ascii")
        read = self._marks[marker] = threading.Event()
        return marker, read

    def unmark(self, marker: bytes) -> None:
        """Stop waiting for ``marker``."""
        self._marks.pop(marker, None)

    def wait_subscribed(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the subscription; whether it is there."""
        return self._subscribed.wait(timeout)

    def add(self, forget: Forget) -> None:
        """Tell ``forget`` about every change from now on (starting the thread once)."""
        held = weakref.WeakMethod(forget) if inspect.ismethod(forget) else lambda: forget
        self._forgets.append(held)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"authonomy changes {self.channel}", daemon=True
        )
        _RUNNING.add(self)
        self._thread.start()

    def restart(self) -> None:
        """Listen on a new thread in a forked process, forgetting what it inherited."""
        if self._thread is None or self._stopping.is_set():
            return
        self._stopping, self._subscribed = threading.Event(), threading.Event()
        self._forget(None)
        self._start()

    def close(self, wait: float = 2.0) -> None:
        """Stop listening; waits up to ``wait`` seconds for the thread to end."""
        self._stopping.set()
        _RUNNING.discard(self)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def _forget(self, session_id: str | None) -> None:
        for held in self._forgets:
            forget = held()
            if forget is not None:
                forget(session_id)

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                self._listen()
            except self._errors as exc:
                if not failing:
                    logger.warning("session changes from other workers not received: %s", exc)
                failing = True
            finally:
                self._subscribed.clear()
                # Changes published while not subscribed are lost: forget everything.
                self._forget(None)
            self._stopping.wait(_RETRY)

    def _listen(self) -> None:
        pubsub = self._pubsub()
        try:
            pubsub.subscribe(self.channel)
            while not self._stopping.is_set():
                message = pubsub.get_message(timeout=_POLL)
                if message is not None:
                    self._receive(message)
        finally:
            pubsub.close()

    def _receive(self, message: dict[str, Any]) -> None:
        if message.get("type") == "subscribe":
            # A first subscription, or redis-py subscribing again after a reconnect:
            # whatever was published in between is unknown.
            self._forget(None)
            self._subscribed.set()
            return
        if message.get("type") != "message":
            return
        data = message.get("data")
        if isinstance(data, bytes) and data.startswith(_MARK):
            read = self._marks.pop(data, None)
            if read is not None:
                read.set()
            return
        is_change, session_id = _what_changed(data)
        if is_change:
            self._forget(session_id)
