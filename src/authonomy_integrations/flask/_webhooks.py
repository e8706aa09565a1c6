"""The webhook view for Flask: the shared delivery (:mod:`..webhooks._views`) on Flask's
request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from flask import Response, current_app, request

from .._runtime import AuthonomySync
from ..webhooks import WebhookReceiver
from ..webhooks._views import deliver
from ._context import EXTENSION_KEY, to_response

__all__ = ["make_webhook_view"]


def make_webhook_view(receiver: WebhookReceiver) -> Callable[[], Response]:
    """A Flask view that feeds deliveries to ``receiver``; mount it for POST.

    ``Content-Length`` is checked before anything is read, and the body is read in chunks
    and refused with 413 once it passes ``receiver.max_body_bytes``. ``async def``
    handlers run in an event loop started for the request, as Flask does for async views.
    On an app with the extension, ``user.logged_out`` and ``session.revoked`` also end
    the matching sessions and refuse their tokens (back-channel logout), before the
    receiver's own handlers run.
    """

    def authonomy_webhook() -> Response:
        # The view also works on its own; back-channel logout needs the extension's sessions.
        kit = current_app.extensions.get(EXTENSION_KEY)
        first = (kit.back_channel_logout,) if isinstance(kit, AuthonomySync) else ()
        reply = deliver(
            receiver,
            request.headers,
            request.stream.read,
            first=first,
            run_async=lambda start: asyncio.run(start()),
        )
        return to_response(reply)

    return authonomy_webhook
