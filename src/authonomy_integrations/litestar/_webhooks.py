"""The webhook route for Litestar: stream the body, answer with the result as every
adapter does (:meth:`~..webhooks.WebhookResult.reply`)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from litestar.response.base import ASGIResponse

from .._config import AuthonomyConfig
from ..webhooks import WebhookReceiver
from ._asgi import Credentials, reply_response

__all__ = ["webhook_route"]


def webhook_route(
    receiver: WebhookReceiver, *, path: str = AuthonomyConfig.webhook_path
) -> HTTPRouteHandler:
    """A POST route at ``path`` that feeds deliveries to ``receiver``.

    ``Litestar([..., webhook_route(receiver)], plugins=[AuthonomyPlugin(config=config)])``.
    The body is streamed and refused with 413 once it passes ``receiver.max_body_bytes``.
    With the plugin, ``user.logged_out`` and ``session.revoked`` also end the matching
    sessions and refuse their tokens (back-channel logout), before the receiver's own
    handlers run.
    """

    @post(path, include_in_schema=False, name=f"authonomy_webhook:{path}")
    async def authonomy_webhook(request: Request[Any, Any, Any]) -> ASGIResponse:
        auth = request.scope.get("auth")
        first = (auth.runtime.back_channel_logout,) if isinstance(auth, Credentials) else ()
        result = await receiver.ahandle_stream(request.headers, request.stream(), first=first)
        return reply_response(result.reply())

    return authonomy_webhook
