"""Authonomy sign-in, sessions, policies and webhooks for Starlette, FastAPI and Flask.

Framework adapters live in :mod:`authonomy_integrations.starlette` and
:mod:`authonomy_integrations.flask`, webhooks in :mod:`authonomy_integrations.webhooks`,
session stores in :mod:`authonomy_integrations.stores`, the embedded sandbox in
:mod:`authonomy_integrations.sandbox`.
"""

from .client import AsyncAuthonomyClient, AuthonomyClient
from .config import AuthonomyConfig
from .core.events import AuthEvent
from .core.policies import PolicyDecision
from .core.user import AuthonomyUser, UnauthenticatedUser
from .errors import (
    APIValidationError,
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    ConfigurationError,
    IdPNotConfiguredError,
    InsufficientPermissionsError,
    InternalServerError,
    InvalidAPIKeyError,
    InvalidCustomerError,
    InvalidGrantError,
    InvalidRequestError,
    KeyNotFoundError,
    LoginError,
    NotFoundError,
    PolicyViolationError,
    RateLimitedError,
    SessionError,
    TokenError,
    TokenExpiredError,
    WebhookVerificationError,
)

__all__ = [
    "APIValidationError",
    "AsyncAuthonomyClient",
    "AuthEvent",
    "AuthonomyAPIError",
    "AuthonomyClient",
    "AuthonomyConfig",
    "AuthonomyError",
    "AuthonomyUnavailableError",
    "AuthonomyUser",
    "ConfigurationError",
    "IdPNotConfiguredError",
    "InsufficientPermissionsError",
    "InternalServerError",
    "InvalidAPIKeyError",
    "InvalidCustomerError",
    "InvalidGrantError",
    "InvalidRequestError",
    "KeyNotFoundError",
    "LoginError",
    "NotFoundError",
    "PolicyDecision",
    "PolicyViolationError",
    "RateLimitedError",
    "SessionError",
    "TokenError",
    "TokenExpiredError",
    "UnauthenticatedUser",
    "WebhookVerificationError",
]
