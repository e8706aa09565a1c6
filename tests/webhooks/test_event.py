"""WebhookEvent: fields and typed views of the contract's event data."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from authonomy_integrations.webhooks import (
    EventCustomer,
    EventPolicy,
    EventRequest,
    EventSession,
    EventUser,
    WebhookEvent,
    WebhookVerifier,
    sign,
)

from .conftest import SECRET

NOW = 1_700_000_000


def verified(payload: dict[str, Any]) -> WebhookEvent:
    body = json.dumps(payload).encode()
    headers = sign(SECRET, payload["id"], NOW, body)
    return WebhookVerifier(SECRET).verify(headers, body, now=NOW)


def test_user_authenticated_exposes_user_and_session() -> None:
    event = verified(
        {
            "id": "evt_123",
            "type": "user.authenticated",
            "timestamp": "2024-01-15T10:30:00Z",
            "data": {
                "user": {"id": "user_456", "email": "john@acme-corp.com", "customer_id": "acme"},
                "session": {"id": "sess_789", "ip_address": "192.168.1.1", "user_agent": "UA"},
            },
        }
    )
    assert event.user == EventUser(id="user_456", email="john@acme-corp.com", customer_id="acme")
    assert event.session == EventSession(id="sess_789", ip_address="192.168.1.1", user_agent="UA")
    assert event.timestamp == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert event.policy is None and event.reason is None and event.request is None


def test_policy_violated_exposes_policy_reason_and_request() -> None:
    event = verified(
        {
            "id": "evt_2",
            "type": "policy.violated",
            "timestamp": "2024-01-15T10:30:00+00:00",
            "data": {
                "user": {"id": "user_1"},
                "policy": {"id": "pol_1", "name": "require-mfa"},
                "reason": "mfa required",
                "request": {"path": "/admin", "ip_address": "10.0.0.1"},
            },
        }
    )
    assert event.policy == EventPolicy(id="pol_1", name="require-mfa")
    assert event.reason == "mfa required"
    assert event.request == EventRequest(path="/admin", ip_address="10.0.0.1")
    assert event.user == EventUser(id="user_1")


def test_customer_from_object_or_bare_id() -> None:
    created = verified(
        {
            "id": "evt_3",
            "type": "customer.created",
            "data": {"customer": {"id": "acme", "name": "Acme", "status": "active"}},
        }
    )
    configured = verified(
        {"id": "evt_4", "type": "idp.configured", "data": {"customer_id": "acme"}}
    )
    assert created.customer == EventCustomer(id="acme", name="Acme", status="active")
    assert configured.customer == EventCustomer(id="acme")


def test_malformed_parts_read_as_absent() -> None:
    event = verified(
        {
            "id": "evt_5",
            "type": "user.logged_out",
            "data": {
                "user": {"email": "no-id@x"},
                "session": "sess_1",
                "policy": {"id": 7},
                "reason": 3,
                "request": [],
                "customer": {"name": "no id"},
            },
        }
    )
    assert event.user is None
    assert event.session is None
    assert event.policy is None
    assert event.reason is None
    assert event.request is None
    assert event.customer is None


def test_unknown_type_is_delivered_with_raw_data() -> None:
    event = verified({"id": "evt_6", "type": "brand.new", "data": {"x": [1, 2]}, "extra": True})
    assert event.type == "brand.new"
    assert event.data == {"x": [1, 2]}
    assert event.payload["extra"] is True


def test_missing_data_and_timestamp_fall_back() -> None:
    event = verified({"id": "evt_7", "type": "session.revoked"})
    assert event.data == {}
    assert event.timestamp == datetime.fromtimestamp(NOW, tz=UTC)


def test_unparseable_body_timestamp_falls_back_to_signature_time() -> None:
    event = verified({"id": "evt_8", "type": "t", "timestamp": "yesterday"})
    assert event.timestamp == datetime.fromtimestamp(NOW, tz=UTC)


def test_naive_body_timestamp_is_read_as_utc() -> None:
    event = verified({"id": "evt_9", "type": "t", "timestamp": "2024-01-15T10:30:00"})
    assert event.timestamp == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def test_raw_is_the_exact_signed_body() -> None:
    body = b'{"type": "t",   "id": "evt_10"}'
    event = WebhookVerifier(SECRET).verify(sign(SECRET, "evt_10", NOW, body), body, now=NOW)
    assert event.raw == body


def test_event_is_frozen() -> None:
    event = verified({"id": "evt_11", "type": "t"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.type = "other"  # type: ignore[misc]


def test_parsed_event_equals_one_built_by_its_constructor() -> None:
    event = verified({"id": "evt_12", "type": "t", "data": {"a": 1}})
    rebuilt = WebhookEvent(
        id=event.id,
        type=event.type,
        timestamp=event.timestamp,
        data=event.data,
        raw=event.raw,
        payload=event.payload,
    )
    assert event == rebuilt
    assert vars(event).keys() == {f.name for f in dataclasses.fields(WebhookEvent)}
