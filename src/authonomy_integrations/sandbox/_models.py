"""Records the sandbox keeps in memory.

Values that never change after creation are frozen; records whose lifecycle the sandbox
advances (a code being used, a session being revoked) are plain dataclasses, always
mutated under the state's lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthCode",
    "Delivery",
    "Identity",
    "IdpSession",
    "IssuedTokens",
    "LoginRequest",
    "MockUser",
    "RefreshToken",
    "Session",
    "StoredCustomer",
    "StoredPolicy",
    "Subscription",
    "UsageEvent",
]


@dataclass(frozen=True)
class ApiKey:
    """An API key, the permissions it grants and the application it belongs to."""

    key: str
    name: str
    permissions: frozenset[str]
    application_id: str


@dataclass(frozen=True)
class MockUser:
    """A user of a customer's mock IdP, offered on the hosted login page."""

    id: str
    username: str
    customer_id: str
    email: str
    name: str
    groups: tuple[str, ...]
    mfa_enrolled: bool


@dataclass
class StoredCustomer:
    """A tenant: its status, domains, IdP connection and assigned policies."""

    id: str
    name: str
    status: str
    domains: list[str]
    created_at: float
    idp: dict[str, Any] | None = None
    idp_client_secret: str | None = None
    policy_ids: list[str] = field(default_factory=list)


@dataclass
class StoredPolicy:
    """A named set of conditions."""

    id: str
    name: str
    description: str
    type: str
    conditions: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Subscription:
    """A registered receiver and the events it subscribes to."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: float


@dataclass(frozen=True)
class Identity:
    """Who signed in and how: the user plus the sandbox-only overrides picked at login."""

    user: MockUser
    groups: tuple[str, ...]
    mfa: bool


@dataclass
class LoginRequest:
    """A started login, addressed by the handle in ``authorization_url``."""

    handle: str
    customer_id: str
    application_id: str
    return_url: str
    state: str
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str | None
    login_hint: str | None
    prompt: str | None
    max_age: int | None
    mfa_requested: bool
    expires_at: float
    pending: Identity | None = None
    mfa_failures: int = 0
    finished: bool = False


@dataclass
class AuthCode:
    """An authorization code: single use, short-lived, bound to its login request."""

    code: str
    request: LoginRequest
    identity: Identity
    auth_time: float
    expires_at: float
    ip_address: str
    user_agent: str
    idp_session_id: str
    used: bool = False
    session_id: str | None = None


@dataclass
class Session:
    """An Authonomy session: created by a code exchange, ended by logout or reuse detection."""

    id: str
    identity: Identity
    application_id: str
    scopes: tuple[str, ...]
    nonce: str | None
    auth_time: float
    created_at: float
    ip_address: str
    user_agent: str
    idp_session_id: str
    revoked: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    """What ``/auth/token`` and ``/auth/refresh`` return."""

    access_token: str
    refresh_token: str
    id_token: str
    expires_in: int
    scope: str

    def as_json(self) -> dict[str, Any]:
        """The response body's ``data``."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "id_token": self.id_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


@dataclass
class RefreshToken:
    """A refresh token; once used it remembers its successor for the grace window."""

    token: str
    session_id: str
    used_at: float | None = None
    successor: IssuedTokens | None = None


@dataclass(frozen=True)
class IdpSession:
    """The mock IdP's own session in the browser, reused for single sign-on."""

    id: str
    customer_id: str
    identity: Identity
    auth_time: float


@dataclass(frozen=True)
class UsageEvent:
    """Something that happened, as ``/analytics/events`` reports it."""

    id: str
    type: str
    timestamp: float
    customer_id: str | None
    user_id: str | None
    session_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """A management write, as ``/audit/logs`` reports it."""

    id: str
    timestamp: float
    actor: str
    action: str
    resource_type: str
    resource_id: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a webhook event to one receiver."""

    event_id: str
    event_type: str
    webhook_id: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    started_at: float
    finished_at: float

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300
