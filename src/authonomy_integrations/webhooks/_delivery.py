"""The effects of a webhook delivery's flow, and how a handler is called.

The receiver's one flow (verify, claim, run the handlers, complete or release) yields
these; the sync and async drivers perform them on the replay store's blocking or
asynchronous methods, and call handlers in the thread or on the event loop. Like the
core's effects (:mod:`authonomy_integrations._core.effects`) each is its own class, as the
drivers pick the action by class: ``Complete`` and ``Release`` carry the same id but ask
for opposite things.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from ._event import WebhookEvent

__all__ = [
    "Claim",
    "Complete",
    "Handler",
    "Interrupted",
    "Release",
    "RunHandler",
    "handler_name",
    "run_async",
    "run_blocking",
]

Handler = Callable[[WebhookEvent], Any]
"""A handler: ``def f(event)`` or ``async def f(event)``; its return value is ignored."""


@dataclass(frozen=True, slots=True)
class Claim:
    """Claim delivery ``event_id`` for ``ttl`` seconds: ``"new"``, ``"in_progress"``, ``"done"``."""

    event_id: str
    ttl: float


@dataclass(frozen=True, slots=True)
class Complete:
    """Record delivery ``event_id`` as handled."""

    event_id: str


@dataclass(frozen=True, slots=True)
class Release:
    """Give up the claim on ``event_id`` so a retry runs the handlers again."""

    event_id: str


@dataclass(frozen=True, slots=True)
class RunHandler:
    """Run ``handler`` for ``event``."""

    handler: Handler
    event: WebhookEvent


class Interrupted(Exception):
    """A ``BaseException`` (cancellation, ``KeyboardInterrupt``) a handler raised, carried
    into the flow so the claim is released before it propagates again."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


def handler_name(handler: Handler) -> str:
    """How a handler is named in reports and errors."""
    return getattr(handler, "__qualname__", None) or repr(handler)


def run_blocking(handler: Handler, event: WebhookEvent) -> None:
    """Call a blocking handler in this thread; an awaitable result is a mistake."""
    try:
        result = handler(event)
    except Exception:
        raise
    except BaseException as exc:
        raise Interrupted(exc) from exc
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError(
            f"webhook handler {handler_name(handler)} returned an awaitable; use ahandle"
        )


async def run_async(handler: Handler, event: WebhookEvent) -> None:
    """Await an async handler; run a blocking one in a worker thread."""
    try:
        if inspect.iscoroutinefunction(handler):
            await handler(event)
            return
        result = await anyio.to_thread.run_sync(handler, event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        raise
    except BaseException as exc:
        raise Interrupted(exc) from exc
