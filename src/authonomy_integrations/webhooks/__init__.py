"""Authonomy webhooks: Standard Webhooks verification, signing, events and a receiver.

::

    from authonomy_integrations.webhooks import WebhookReceiver, WebhookEvent

    receiver = WebhookReceiver(config)

    @receiver.on("policy.violated")
    async def handle(event: WebhookEvent) -> None: ...

    try:
        event = WebhookVerifier(secret).verify(headers, body)
    except WebhookVerificationError: ...   # bad signature, stale timestamp, bad body

Framework routes: ``authonomy_integrations.starlette.webhook_endpoint`` and the Flask
extension's webhook view.
"""

from .._errors import WebhookVerificationError
from ._body import DEFAULT_MAX_BODY_BYTES, PayloadTooLargeError, aread_limited, read_limited
from ._event import (
    EVENT_TYPES,
    EventCustomer,
    EventPolicy,
    EventRequest,
    EventSession,
    EventUser,
    WebhookEvent,
)
from ._receiver import DEFAULT_CLAIM_TTL, Handler, WebhookReceiver, WebhookResult
from ._signature import Headers, Secret, sign
from ._verifier import DEFAULT_TOLERANCE, WebhookVerifier

__all__ = [
    "DEFAULT_CLAIM_TTL",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "EVENT_TYPES",
    "EventCustomer",
    "EventPolicy",
    "EventRequest",
    "EventSession",
    "EventUser",
    "Handler",
    "Headers",
    "PayloadTooLargeError",
    "Secret",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookResult",
    "WebhookVerificationError",
    "WebhookVerifier",
    "aread_limited",
    "read_limited",
    "sign",
]
