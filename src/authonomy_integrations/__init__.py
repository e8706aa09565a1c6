"""Authonomy sign-in, sessions, policies and webhooks for Starlette, FastAPI, Flask and Django.

The public surface is this module and the packages beside it, nothing else:

- here: configuration, the API clients and their record types, the user, events and
  every error;
- :mod:`~authonomy_integrations.starlette`, :mod:`~authonomy_integrations.flask`,
  :mod:`~authonomy_integrations.django` (and its ``rest_framework``): the adapters;
- :mod:`~authonomy_integrations.webhooks`: verification, signing and a receiver;
- :mod:`~authonomy_integrations.stores`: session and webhook replay stores;
- :mod:`~authonomy_integrations.sandbox` and :mod:`~authonomy_integrations.testing`: the
  embedded sandbox and helpers for tests.

Modules and packages whose names start with an underscore are internal and may change in
any release.
"""

from ._client import AsyncAuthonomyClient, AuthonomyClient
from ._config import AuthonomyConfig
from ._core.api import (
    AuthorizeResponse,
    Customer,
    PolicyRecord,
    TokenResponse,
    WebhookSubscription,
)
from ._core.events import AuthEvent
from ._core.policies import PolicyDecision
from ._core.user import AuthonomyUser, UnauthenticatedUser
from ._errors import (
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
    MissingExtraError,
    NotFoundError,
    PayloadTooLargeError,
    PolicyUnavailableError,
    PolicyViolationError,
    RateLimitedError,
    ReplayStoreFullError,
    SessionError,
    SessionTooLargeError,
    StoreUnavailableError,
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
    "AuthorizeResponse",
    "ConfigurationError",
    "Customer",
    "IdPNotConfiguredError",
    "InsufficientPermissionsError",
    "InternalServerError",
    "InvalidAPIKeyError",
    "InvalidCustomerError",
    "InvalidGrantError",
    "InvalidRequestError",
    "KeyNotFoundError",
    "LoginError",
    "MissingExtraError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PolicyDecision",
    "PolicyRecord",
    "PolicyUnavailableError",
    "PolicyViolationError",
    "RateLimitedError",
    "ReplayStoreFullError",
    "SessionError",
    "SessionTooLargeError",
    "StoreUnavailableError",
    "TokenError",
    "TokenExpiredError",
    "TokenResponse",
    "UnauthenticatedUser",
    "WebhookSubscription",
    "WebhookVerificationError",
]

# The first names of two answers, which read as something else: ``Authorization`` as the
# HTTP header, ``Webhook`` as a delivery received (that is ``webhooks.WebhookEvent``).
# Kept importable, out of ``__all__``, for code written against them.
Authorization = AuthorizeResponse
Webhook = WebhookSubscription
