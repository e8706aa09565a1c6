"""The webhook view for Flask: read the body under its limit, answer with the result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import IO

from flask import Response, current_app, jsonify, request

from .._runtime import AuthonomySync
from ..webhooks import WebhookReceiver, WebhookResult
from ._context import EXTENSION_KEY

__all__ = ["make_webhook_view"]

_CHUNK_BYTES = 64 * 1024


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK_BYTES):
        yield chunk


def make_webhook_view(
    receiver: WebhookReceiver,
) -> Callable[[], tuple[Response, int, dict[str, str]]]:
    """A Flask view that feeds deliveries to ``receiver``; mount it for POST.

    ``Content-Length`` is checked before anything is read, and the body is read in chunks
    and refused with 413 once it passes ``receiver.max_body_bytes``. ``async def``
    handlers run in an event loop started for the request, as Flask does for async views.
    On an app with the extension, ``user.logged_out`` and ``session.revoked`` also end
    the matching sessions and refuse their tokens (back-channel logout), before the
    receiver's own handlers run.
    """

    def authonomy_webhook() -> tuple[Response, int, dict[str, str]]:
        result = _dispatch(receiver)
        return jsonify(result.body), result.status, result.headers

    return authonomy_webhook


def _dispatch(receiver: WebhookReceiver) -> WebhookResult:
    headers = request.headers
    body = receiver.read_body(headers, _chunks(request.stream))
    if isinstance(body, WebhookResult):
        return body
    # The view also works on its own; back-channel logout needs the extension's sessions.
    kit = current_app.extensions.get(EXTENSION_KEY)
    first = (kit.back_channel_logout,) if isinstance(kit, AuthonomySync) else ()
    if receiver.has_async_handlers:
        return asyncio.run(receiver.ahandle(headers, body, first=first))
    return receiver.handle(headers, body, first=first)
