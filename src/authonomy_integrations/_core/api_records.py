"""What Authonomy's endpoints answer, as typed dictionaries."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = [
    "AuthorizeResponse",
    "Customer",
    "JSONObject",
    "PolicyRecord",
    "PolicyRecordList",
    "TokenResponse",
    "WebhookSubscription",
]

JSONObject = dict[str, Any]


class AuthorizeResponse(TypedDict):
    """Answer of ``POST /auth/authorize``."""

    authorization_url: str
    """Where to send the browser."""
    state: str
    """Opaque value the app binds to the browser and checks on return."""
    expires_in: int
    """Seconds the login request stays valid."""


class TokenResponse(TypedDict):
    """Answer of ``POST /auth/token`` and ``POST /auth/refresh``."""

    access_token: str
    refresh_token: str
    id_token: NotRequired[str]
    token_type: str
    expires_in: int
    """Seconds the access token lives."""
    scope: str
    """Space-separated granted scopes."""


class Customer(TypedDict):
    """A customer (tenant)."""

    id: str
    name: str
    status: str
    """``"active"`` or ``"suspended"``."""
    domains: list[str]
    idp: Any
    """IdP settings without ``client_secret``, or ``None``."""
    created_at: str


class PolicyRecord(TypedDict):
    """An access policy."""

    id: str
    """``pol_...``."""
    name: str
    """Unique name, used by ``require_policy``."""
    description: str
    type: str
    """``"authentication"`` or ``"authorization"``."""
    conditions: dict[str, Any]


class WebhookSubscription(TypedDict):
    """A webhook subscription; the secret is never returned."""

    id: str
    """``wh_...``."""
    url: str
    events: list[str]
    created_at: str


PolicyRecordList = list[PolicyRecord]
