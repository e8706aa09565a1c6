"""Authonomy sign-in, sessions, policies and webhooks for Starlette, FastAPI and Flask."""

from .config import AuthonomyConfig
from .errors import (
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    ConfigurationError,
    PolicyViolationError,
    TokenError,
    WebhookVerificationError,
)

__all__ = [
    "AuthonomyAPIError",
    "AuthonomyConfig",
    "AuthonomyError",
    "AuthonomyUnavailableError",
    "ConfigurationError",
    "PolicyViolationError",
    "TokenError",
    "WebhookVerificationError",
]
