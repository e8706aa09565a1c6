"""The webhook view for Quart: the body streamed to the receiver, the result answered as
every adapter does (:meth:`~..webhooks.WebhookResult.reply`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Response, current_app, request

from .._runtime import AuthonomyAsync
from ..webhooks import WebhookReceiver
from ._context import EXTENSION_KEY, to_response

__all__ = ["make_webhook_view"]


def make_webhook_view(receiver: WebhookReceiver) -> Callable[[], Awaitable[Response]]:
    """A Quart view that feeds deliveries to ``receiver``; mount it for POST.

    ``Content-Length`` is checked before anything is read, and the body is read in chunks
    and refused with 413 once it passes ``receiver.max_body_bytes``. On an app with the
    extension, ``user.logged_out`` and ``session.revoked`` also end the matching sessions
    and refuse their tokens (back-channel logout), before the receiver's own handlers run.
    """

    async def authonomy_webhook() -> Response:
        # The view also works on its own; back-channel logout needs the extension's sessions.
        kit = current_app.extensions.get(EXTENSION_KEY)
        first = (kit.back_channel_logout,) if isinstance(kit, AuthonomyAsync) else ()
        result = await receiver.ahandle_stream(request.headers, request.body, first=first)
        return to_response(result.reply())

    return authonomy_webhook
