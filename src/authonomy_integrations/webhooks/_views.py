"""What every framework's webhook view does, written once: read the body under its limit,
run the delivery, and answer with a framework-free :class:`~.._core.web.Reply`.

An adapter's view only finds the request's headers, body reader and back-channel
handlers, and writes the reply out with the same translation its other answers use, so
status, every header (``Retry-After`` included) and body reach the client alike in every
framework.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from .._core.web import Reply
from ._delivery import Handler
from ._receiver import WebhookReceiver, WebhookResult
from ._signature import Headers

__all__ = ["RunAsync", "deliver"]

_CHUNK_BYTES = 64 * 1024

#: Runs a coroutine to its end from blocking code (``asyncio.run``, ``async_to_sync``).
RunAsync = Callable[[Callable[[], Coroutine[Any, Any, WebhookResult]]], WebhookResult]


def _chunks(read: Callable[[int], bytes]) -> Iterator[bytes]:
    while chunk := read(_CHUNK_BYTES):
        yield chunk


def deliver(
    receiver: WebhookReceiver,
    headers: Headers,
    read: Callable[[int], bytes],
    *,
    first: Sequence[Handler],
    run_async: RunAsync,
    afirst: Sequence[Handler] | None = None,
) -> Reply:
    """One delivery from blocking code: the body read in chunks with ``read(size)``
    (refused with 413 once past the limit), then the handlers, ``first`` before them.

    With an ``async def`` handler registered the delivery runs through ``run_async``,
    with ``afirst`` (default: ``first``) before the handlers.
    """
    body = receiver.read_body(headers, _chunks(read))
    if isinstance(body, WebhookResult):
        return body.reply()
    if receiver.has_async_handlers:
        before = first if afirst is None else afirst

        async def delivery() -> WebhookResult:
            return await receiver.ahandle(headers, body, first=before)

        return run_async(delivery).reply()
    return receiver.handle(headers, body, first=first).reply()
