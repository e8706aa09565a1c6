"""Deliveries signed as Authonomy signs them, for the webhook tests."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from authonomy_integrations.webhooks import sign

SECRET = "whsec_" + base64.b64encode(b"webhook-test-key-0123456789abcdef").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-key-for-rotation-tests!!").decode()


@dataclass(frozen=True)
class Delivery:
    """A signed delivery: headers (with content type) and the raw body."""

    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


def event_body(
    event_id: str = "evt_1", event_type: str = "user.authenticated", **extra: Any
) -> bytes:
    payload: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "timestamp": "2024-01-15T10:30:00Z",
        "data": {
            "user": {"id": "user_456", "email": "john@acme-corp.com", "customer_id": "acme-corp"},
            "session": {"id": "sess_789", "ip_address": "192.168.1.1", "user_agent": "Mozilla"},
        },
    }
    payload.update(extra)
    return json.dumps(payload).encode()


def make_delivery(
    body: bytes | None = None,
    *,
    event_id: str = "evt_1",
    event_type: str = "user.authenticated",
    secret: str | list[str] = SECRET,
    timestamp: int | None = None,
) -> Delivery:
    raw = event_body(event_id, event_type) if body is None else body
    signed = sign(secret, event_id, int(time.time()) if timestamp is None else timestamp, raw)
    return Delivery({**signed, "content-type": "application/json"}, raw)


@pytest.fixture
def delivery() -> Delivery:
    return make_delivery()
