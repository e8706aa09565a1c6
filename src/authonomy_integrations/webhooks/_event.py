"""``WebhookEvent``: a verified delivery, with typed views of the contract's event data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._core.strict_json import STRICT_JSON
from .._errors import WebhookVerificationError

__all__ = [
    "EVENT_TYPES",
    "EventCustomer",
    "EventPolicy",
    "EventRequest",
    "EventSession",
    "EventUser",
    "WebhookEvent",
    "parse_event",
]

EVENT_TYPES: tuple[str, ...] = (
    "user.authenticated",
    "user.logged_out",
    "session.revoked",
    "policy.violated",
    "customer.created",
    "customer.updated",
    "idp.configured",
    "policy.created",
    "policy.updated",
)
"""The event types Authonomy sends today; other types are still delivered."""


def _object(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, dict) else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class EventUser:
    """The user an event is about."""

    id: str
    email: str | None = None
    customer_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EventSession:
    """The Authonomy session an event is about."""

    id: str
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class EventPolicy:
    """The policy an event is about (``policy.violated``, ``policy.created``, ...)."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EventRequest:
    """The request that triggered a ``policy.violated`` event."""

    path: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True, slots=True)
class EventCustomer:
    """The customer (tenant) an event is about."""

    id: str
    name: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook delivery.

    ``data`` is the event's ``data`` object as sent; the properties read the parts the
    contract defines and return ``None`` when an event does not carry them.
    """

    id: str
    """The event id, equal to the ``webhook-id`` header; the idempotency key."""
    type: str
    """The event type, e.g. ``"user.authenticated"``; unknown types are delivered too."""
    timestamp: datetime
    """When the event happened (the body's ``timestamp``, else the signature's), aware UTC."""
    data: Mapping[str, Any]
    """The event's ``data`` object."""
    raw: bytes
    """The body exactly as received and signed."""
    payload: Mapping[str, Any]
    """The whole decoded body (``id``, ``type``, ``timestamp``, ``data`` and any extra field)."""

    @property
    def user(self) -> EventUser | None:
        """The ``user`` of the event, when it has one with an ``id``."""
        user = _object(self.data.get("user"))
        user_id = _string(user.get("id")) if user else None
        if user is None or user_id is None:
            return None
        return EventUser(
            id=user_id,
            email=_string(user.get("email")),
            customer_id=_string(user.get("customer_id")),
            name=_string(user.get("name")),
        )

    @property
    def session(self) -> EventSession | None:
        """The ``session`` of the event, when it has one with an ``id``."""
        session = _object(self.data.get("session"))
        session_id = _string(session.get("id")) if session else None
        if session is None or session_id is None:
            return None
        return EventSession(
            id=session_id,
            ip_address=_string(session.get("ip_address")),
            user_agent=_string(session.get("user_agent")),
        )

    @property
    def policy(self) -> EventPolicy | None:
        """The ``policy`` of the event, when it has one with an ``id``."""
        policy = _object(self.data.get("policy"))
        policy_id = _string(policy.get("id")) if policy else None
        if policy is None or policy_id is None:
            return None
        return EventPolicy(id=policy_id, name=_string(policy.get("name")))

    @property
    def reason(self) -> str | None:
        """Why it happened (``policy.violated``, ``session.revoked``), when given."""
        return _string(self.data.get("reason"))

    @property
    def request(self) -> EventRequest | None:
        """The request behind a ``policy.violated`` event, when given."""
        request = _object(self.data.get("request"))
        if request is None:
            return None
        return EventRequest(
            path=_string(request.get("path")), ip_address=_string(request.get("ip_address"))
        )

    @property
    def customer(self) -> EventCustomer | None:
        """The customer: a ``customer`` object, else a bare ``customer_id`` in ``data``."""
        customer = _object(self.data.get("customer"))
        if customer is None:
            customer_id = _string(self.data.get("customer_id"))
            return EventCustomer(id=customer_id) if customer_id else None
        found_id = _string(customer.get("id"))
        if found_id is None:
            return None
        return EventCustomer(
            id=found_id, name=_string(customer.get("name")), status=_string(customer.get("status"))
        )


_JSON_WHITESPACE = " \t\n\r"


def _decode(body: bytes) -> dict[str, Any]:
    # raw_decode skips json.loads' encoding sniffing and whitespace regexes (JSON bodies are
    # UTF-8, RFC 8259, and rarely padded); a body it cannot take gets the full decoder.
    try:
        text = body.decode("utf-8")
        try:
            payload, end = STRICT_JSON.raw_decode(text)
        except ValueError:
            payload, end = STRICT_JSON.decode(text), len(text)
        if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
            payload = STRICT_JSON.decode(text)
    except (ValueError, RecursionError):
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; deep nesting recurses.
        raise WebhookVerificationError("body is not valid JSON") from None
    if type(payload) is not dict:
        raise WebhookVerificationError("body is not a JSON object")
    return payload


def _event_time(value: Any, header_timestamp: int) -> datetime:
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return datetime.fromtimestamp(header_timestamp, tz=UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.fromtimestamp(header_timestamp, tz=UTC)


def parse_event(body: bytes, webhook_id: str, header_timestamp: int) -> WebhookEvent:
    """Decode a verified body into a :class:`WebhookEvent`; the body's ``id`` must match."""
    payload = _decode(body)
    event_id = payload.get("id")
    if event_id != webhook_id:
        has_id = isinstance(event_id, str) and event_id
        raise WebhookVerificationError(
            "body id does not match webhook-id" if has_id else "body has no id"
        )
    event_type = payload.get("type")
    if type(event_type) is not str or not event_type:
        raise WebhookVerificationError("body has no type")
    data = payload.get("data")
    if data is None:
        data = {}
    elif type(data) is not dict:
        raise WebhookVerificationError("body data is not an object")
    timestamp = _event_time(payload.get("timestamp"), header_timestamp)
    return _new_event(event_id, event_type, timestamp, data, body, payload)


def _new_event(
    event_id: str,
    event_type: str,
    timestamp: datetime,
    data: dict[str, Any],
    raw: bytes,
    payload: dict[str, Any],
) -> WebhookEvent:
    # Every delivery builds one event; filling the instance dict in one call costs half of
    # the frozen __init__'s six object.__setattr__ calls. Fields are those of the class.
    event = object.__new__(WebhookEvent)
    event.__dict__.update(
        id=event_id, type=event_type, timestamp=timestamp, data=data, raw=raw, payload=payload
    )
    return event
