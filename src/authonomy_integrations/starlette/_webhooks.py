"""The webhook route for Starlette and FastAPI: stream the body, answer with the result
as every adapter does (:meth:`~..webhooks.WebhookResult.reply`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ..webhooks import WebhookReceiver
from ._asgi import KitCredentials, response

__all__ = ["webhook_endpoint"]


def webhook_endpoint(receiver: WebhookReceiver) -> Callable[[Request], Awaitable[Response]]:
    """A request endpoint that feeds deliveries to ``receiver``.

    Mount it for POST: ``app.add_route("/webhooks/authonomy", webhook_endpoint(receiver),
    methods=["POST"])``; FastAPI's ``add_route`` and ``add_api_route`` take it too. The body
    is streamed and refused with 413 once it passes ``receiver.max_body_bytes``.

    Behind :class:`AuthonomyMiddleware`, ``user.logged_out`` and ``session.revoked``
    also end the matching sessions and refuse their tokens (back-channel logout),
    before the receiver's own handlers run.
    """

    async def authonomy_webhook(request: Request) -> Response:
        auth = request.scope.get("auth")
        first = (auth.runtime.back_channel_logout,) if isinstance(auth, KitCredentials) else ()
        result = await receiver.ahandle_stream(request.headers, request.stream(), first=first)
        return response(result.reply())

    return authonomy_webhook
