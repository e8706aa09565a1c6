"""All sandbox state in one object: data, clock, keys, limits and the webhook outbox."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .._core.origins import Origins
from ._activity import ActivityLog
from ._clock import Clock, isoformat
from ._keys import KeyRing
from ._models import (
    ApiKey,
    AuditEntry,
    AuthCode,
    IdpSession,
    LoginRequest,
    MockUser,
    RefreshToken,
    Session,
    StoredCustomer,
    StoredPolicy,
    Subscription,
    UsageEvent,
)
from ._ratelimit import RateLimiter
from ._webhooks import DEFAULT_RETRY_SCHEDULE, WebhookDispatcher

__all__ = ["SandboxState"]


class SandboxState:
    """The sandbox's in-memory world; every mutation happens under ``lock``."""

    code_ttl = 60
    """Seconds an authorization code lives."""
    login_ttl = 600
    """Seconds a started login may take."""
    refresh_grace = 10
    """Seconds during which a used refresh token returns its successor."""

    def __init__(
        self,
        *,
        issuer: str = "http://127.0.0.1:8400",
        token_ttl: int = 3600,
        algorithm: str = "RS256",
        rate_limits: Mapping[str, int] | None = None,
        webhook_retry_schedule: Sequence[float] | None = None,
        seed: bool = True,
    ) -> None:
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self.issuer = issuer
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.clock = Clock()
        self.keys = KeyRing(algorithm)
        self.rate_limiter = RateLimiter(rate_limits)
        schedule = (
            DEFAULT_RETRY_SCHEDULE if webhook_retry_schedule is None else webhook_retry_schedule
        )
        self.dispatcher = WebhookDispatcher(self.clock, schedule)
        #: Recent logins, token sets and revoked sessions, for the console.
        self.activity = ActivityLog(self.clock)
        #: Proves a console form was read from the console itself (cross-site POSTs lack it).
        self.console_token = secrets.token_urlsafe(32)
        self.api_keys: dict[str, ApiKey] = {}
        self.customers: dict[str, StoredCustomer] = {}
        self.users: dict[str, MockUser] = {}
        self.policies: dict[str, StoredPolicy] = {}
        self.webhooks: dict[str, Subscription] = {}
        self.login_requests: dict[str, LoginRequest] = {}
        self.codes: dict[str, AuthCode] = {}
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        #: Server faults to answer with, by (method, path): how many requests are left.
        self.faults: dict[tuple[str, str], int] = {}
        self.idp_sessions: dict[str, IdpSession] = {}
        self.events: list[UsageEvent] = []
        self.audit_log: list[AuditEntry] = []
        self._requests: Counter[tuple[str, str]] = Counter()
        #: The app's origins (``--app-url``): where logins may return; ``None``: anywhere.
        self.app_origins: Origins | None = None
        if seed:
            from ._seed import seed_state

            seed_state(self)

    def inject_faults(self, method: str, path: str, times: int) -> None:
        """Answer the next ``times`` requests to ``method path`` with a 500 fault."""
        with self.lock:
            self.faults[(method.upper(), path)] = times

    def take_fault(self, method: str, path: str) -> bool:
        """Whether this request is to fail (using up one injected fault)."""
        if not self.faults:
            return False
        with self.lock:
            left = self.faults.get((method, path), 0)
            if left <= 0:
                return False
            self.faults[(method, path)] = left - 1
            return True

    @staticmethod
    def new_id(prefix: str) -> str:
        """A random id such as ``pol_3f2a...``."""
        return f"{prefix}_{secrets.token_hex(8)}"

    def api_key(self, presented: str) -> ApiKey | None:
        """The API key matching ``presented``, compared in constant time."""
        found = None
        for key in self.api_keys.values():
            if hmac.compare_digest(key.key.encode(), presented.encode()):
                found = key
        return found

    def users_of(self, customer_id: str) -> list[MockUser]:
        """The mock users of a customer's IdP."""
        return [user for user in self.users.values() if user.customer_id == customer_id]

    def count_request(self, method: str, path: str) -> None:
        """Count one HTTP request."""
        with self.lock:
            self._requests[(method.upper(), path)] += 1

    def request_count(self, method: str, path: str) -> int:
        """How many requests arrived for ``method`` and exact ``path``."""
        with self.lock:
            return self._requests[(method.upper(), path)]

    def record(
        self,
        type_: str,
        *,
        customer_id: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        **details: Any,
    ) -> None:
        """Append a usage event for the analytics endpoints."""
        event = UsageEvent(
            self.new_id("uev"), type_, self.clock.now(), customer_id, user_id, session_id, details
        )
        with self.lock:
            self.events.append(event)

    def audit(
        self, actor: ApiKey, action: str, resource_type: str, resource_id: str, **details: Any
    ) -> None:
        """Append an audit entry for a management write."""
        entry = AuditEntry(
            self.new_id("aud"),
            self.clock.now(),
            actor.name,
            action,
            resource_type,
            resource_id,
            details,
        )
        with self.lock:
            self.audit_log.append(entry)

    def emit(self, event_type: str, data: Mapping[str, Any]) -> str:
        """Send a webhook event to every receiver subscribed to ``event_type``."""
        event_id = self.new_id("evt")
        payload = {
            "id": event_id,
            "type": event_type,
            "timestamp": isoformat(self.clock.now()),
            "data": dict(data),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self.lock:
            receivers = [hook for hook in self.webhooks.values() if event_type in hook.events]
        for hook in receivers:
            self.dispatcher.enqueue(event_id, event_type, body, hook)
        return event_id
