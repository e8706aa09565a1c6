"""What a webhook delivery is answered, and what is reported about it.

Each refusal or acknowledgement is one function: it reports the decision to the
receiver's :class:`~authonomy_integrations._core.events.Events` and returns the
:class:`WebhookResult` (the API's envelope) the route sends back.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from .._core import events as ev
from .._core.events import Events
from .._core.web import Reply
from .._errors import ReplayStoreFullError, StoreUnavailableError, WebhookVerificationError
from ..stores._replay import ClaimState
from ._body import PayloadTooLargeError
from ._delivery import Handler, handler_name
from ._event import WebhookEvent
from ._verifier import NO_MATCHING_SIGNATURE

#: Where the kit's webhook events are logged; the hint about a wrong secret goes there too.
logger = logging.getLogger("authonomy_integrations.webhooks")

__all__ = [
    "WebhookResult",
    "handler_failed",
    "handler_store_unavailable",
    "received",
    "replayed",
    "store_full",
    "store_unavailable",
    "too_large",
    "unsupported_media_type",
    "verification_failed",
    "verified",
]


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The HTTP answer to a delivery: a status code, a JSON body and extra headers."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the delivery was acknowledged (2xx)."""
        return 200 <= self.status < 300

    def reply(self) -> Reply:
        """The result as the framework-free answer every adapter writes out: the status,
        the JSON body, and every header (``Retry-After`` included)."""
        body = json.dumps(self.body, separators=(",", ":")).encode()
        return Reply(self.status, body, headers=tuple(self.headers.items()))


def _failure(status: int, code: str, message: str, **details: Any) -> WebhookResult:
    error = {"code": code, "message": message, "details": details}
    return WebhookResult(status, {"success": False, "error": error})


def _unavailable(message: str, exc: StoreUnavailableError) -> WebhookResult:
    """503 ``TEMPORARILY_UNAVAILABLE`` with the store's ``Retry-After`` (at least 1 s)."""
    result = _failure(503, "TEMPORARILY_UNAVAILABLE", message)
    retry_after = max(1, math.ceil(exc.retry_after or 1))
    return WebhookResult(result.status, result.body, {"retry-after": str(retry_after)})


def _about(event: WebhookEvent) -> dict[str, Any]:
    """What an event report says of a delivery: its id and type, nothing of its data."""
    return {"webhook_id": event.id, "event_type": event.type}


def received(event_id: str, *, duplicate: bool = False) -> WebhookResult:
    """200: the delivery was handled (now, or before when ``duplicate``)."""
    data: dict[str, Any] = {"received": True, "id": event_id}
    if duplicate:
        data["duplicate"] = True
    return WebhookResult(200, {"success": True, "data": data})


def verified(events: Events, event: WebhookEvent) -> WebhookEvent:
    """Report a delivery whose signature checked out; ``event`` is handed back."""
    events.emit(ev.WEBHOOK_VERIFIED, **_about(event))
    return event


def unsupported_media_type(events: Events) -> WebhookResult:
    """415: the body is not declared as JSON."""
    events.emit(
        ev.WEBHOOK_REJECTED,
        "unsupported_media_type",
        detail="content type is not application/json",
    )
    return _failure(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")


def too_large(events: Events, exc: PayloadTooLargeError) -> WebhookResult:
    """413: the body is over the receiver's limit."""
    events.emit(ev.WEBHOOK_REJECTED, "too_large", detail=exc.reason)
    return _failure(413, exc.code, "Webhook body too large", limit=exc.limit)


def verification_failed(events: Events, exc: WebhookVerificationError) -> WebhookResult:
    """400: the signature, timestamp or body did not verify (the reason in ``details``)."""
    events.emit(ev.WEBHOOK_REJECTED, "verification_failed", detail=exc.reason)
    if exc.reason == NO_MATCHING_SIGNATURE:
        _signed_with_another_secret()
    return _failure(400, exc.code, "Webhook verification failed", reason=exc.reason)


def _signed_with_another_secret() -> None:
    # Almost always a configuration mistake, not an attack: say where the secret comes from.
    logger.warning(
        "A webhook delivery's signature matches none of the configured secrets: it was "
        "most likely signed with another secret than AUTHONOMY_WEBHOOK_SECRET. Use the "
        "secret of the webhook subscription (authonomy-sandbox prints the one it signs "
        "with and writes it to its --env-file). A secret that starts with 'whsec_' is "
        "base64 after that prefix; any other is used as it is, as UTF-8 text."
    )


def replayed(events: Events, event: WebhookEvent, state: ClaimState) -> WebhookResult:
    """200 for an id already handled; 409 for one being handled right now."""
    if state == "done":
        events.emit(ev.WEBHOOK_DUPLICATE, **_about(event))
        return received(event.id, duplicate=True)
    events.emit(
        ev.WEBHOOK_REJECTED,
        "in_progress",
        detail="the same id is being handled",
        **_about(event),
    )
    return _failure(409, "WEBHOOK_IN_PROGRESS", "This delivery is being handled; retry later")


def store_full(events: Events, exc: ReplayStoreFullError) -> WebhookResult:
    """503: the replay store holds too many recent ids to take another."""
    events.emit(ev.WEBHOOK_REJECTED, "replay_store_full", level=logging.ERROR, detail=str(exc))
    return _failure(503, exc.code, "Too many recent deliveries to track; retry later")


def store_unavailable(
    events: Events, event: WebhookEvent, exc: StoreUnavailableError
) -> WebhookResult:
    """503 with ``Retry-After``: the replay store is out of reach, nothing is acknowledged."""
    events.emit(
        ev.WEBHOOK_REJECTED,
        "replay_store_unavailable",
        level=logging.WARNING,
        detail=str(exc),
        **_about(event),
    )
    return _unavailable("The replay store is out of reach; retry later", exc)


def handler_failed(
    events: Events, event: WebhookEvent, handler: Handler, exc: Exception
) -> WebhookResult:
    """500: a handler raised; the error is logged with its traceback, never sent back."""
    events.emit(
        ev.WEBHOOK_HANDLER_FAILED,
        type(exc).__name__,
        exc_info=exc,
        handler=handler_name(handler),
        **_about(event),
    )
    return _failure(500, "INTERNAL_ERROR", "Webhook handler failed")


def handler_store_unavailable(
    events: Events, event: WebhookEvent, handler: Handler, exc: StoreUnavailableError
) -> WebhookResult:
    """503 with ``Retry-After``: a handler found a store out of reach (the session store,
    ending sessions on a back-channel logout). Nothing is acknowledged and the retry runs
    the handlers again, as for the replay store."""
    events.emit(
        ev.WEBHOOK_HANDLER_FAILED,
        type(exc).__name__,
        level=logging.WARNING,
        detail=str(exc),
        handler=handler_name(handler),
        **_about(event),
    )
    return _unavailable("A store is out of reach; retry later", exc)
