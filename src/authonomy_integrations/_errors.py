"""The kit's exception tree.

Every error the kit raises derives from :class:`AuthonomyError`::

    AuthonomyError
    ├── ConfigurationError            bad configuration, raised at start-up
    ├── MissingExtraError             an optional dependency is not installed (also ImportError)
    ├── AuthonomyAPIError             the API answered with an error envelope
    │   ├── InvalidRequestError         INVALID_REQUEST
    │   ├── InvalidGrantError           INVALID_GRANT
    │   ├── InvalidAPIKeyError          INVALID_API_KEY
    │   ├── InsufficientPermissionsError INSUFFICIENT_PERMISSIONS
    │   ├── InvalidCustomerError        INVALID_CUSTOMER
    │   ├── NotFoundError               NOT_FOUND
    │   ├── APIValidationError          VALIDATION_ERROR
    │   ├── IdPNotConfiguredError       IDP_NOT_CONFIGURED
    │   ├── RateLimitedError            RATE_LIMITED
    │   └── InternalServerError         INTERNAL_ERROR
    ├── AuthonomyUnavailableError     Authonomy unreachable, timed out or 5xx after retries
    ├── TokenError                    a token failed verification
    │   ├── TokenExpiredError
    │   └── KeyNotFoundError            no key with the token's ``kid``
    ├── LoginError                    a callback that cannot complete a login
    ├── SessionError                  a session that cannot be stored or read
    │   └── SessionTooLargeError        too big for the session store (a cookie): permanent
    │   └── StoreUnavailableError       a shared store (Redis) out of reach or failing
    ├── PolicyViolationError          a user failed a policy
    ├── PolicyUnavailableError        a policy Authonomy refused to hand over (API key)
    ├── ReplayStoreFullError          a replay store cannot remember one more webhook id
    └── WebhookVerificationError      a webhook delivery failed verification
        └── PayloadTooLargeError        its body is over the receiver's limit (413)

Each subclass sets only its ``code``, in its class line; context travels as attributes.
An API error class is found by its code (:func:`api_error_for`) once it is defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIValidationError",
    "AuthonomyAPIError",
    "AuthonomyError",
    "AuthonomyUnavailableError",
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
    "MissingExtraError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PolicyUnavailableError",
    "PolicyViolationError",
    "RateLimitedError",
    "ReplayStoreFullError",
    "SessionError",
    "SessionTooLargeError",
    "StoreUnavailableError",
    "TokenError",
    "TokenExpiredError",
    "WebhookVerificationError",
    "api_error_for",
]


class AuthonomyError(Exception):
    """Base of every error the kit raises."""

    code: str = "AUTHONOMY_ERROR"

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: Any) -> None:
        # A subclass names its code in its class line; nothing else is restated.
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(AuthonomyError, code="CONFIGURATION_ERROR"):
    """The configuration is invalid; ``field`` names the offending setting.

    ``variable`` is the environment variable that sets it (``AUTHONOMY_APP_URL``), when
    there is one; the message names both, then says what is wrong and how to fix it.
    """

    def __init__(self, field: str, message: str, *, variable: str | None = None) -> None:
        where = f"{field} ({variable})" if variable else field
        super().__init__(f"{where}: {message}")
        self.field = field
        self.variable = variable
        self.reason = message


class MissingExtraError(AuthonomyError, ImportError, code="MISSING_EXTRA"):
    """A part of the kit needs an optional dependency that is not installed.

    ``extra`` names the extra that brings it: ``pip install 'authonomy-integrations[extra]'``.
    """

    def __init__(self, part: str, module: str, extra: str) -> None:
        super().__init__(
            f"{part} needs the {module!r} package, which is not installed; install the "
            f"{extra!r} extra: pip install 'authonomy-integrations[{extra}]'"
        )
        self.name = module
        self.extra = extra


#: The API error class of each envelope ``code``, filled as the classes are defined.
_API_ERRORS: dict[str, type[AuthonomyAPIError]] = {}


class AuthonomyAPIError(AuthonomyError, code="API_ERROR"):
    """The Authonomy API answered with an error envelope."""

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(code=code, **kwargs)
        # Only the kit's own classes: an application's subclass must not take over a code.
        if code is not None and cls.__module__ == __name__:
            _API_ERRORS[code] = cls

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int = 0,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.status = status
        self.details: Mapping[str, Any] = details or {}
        self.request_id = request_id

    def __str__(self) -> str:
        suffix = f" (request_id={self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{suffix}"


class InvalidRequestError(AuthonomyAPIError, code="INVALID_REQUEST"):
    """Malformed request or missing field."""


class InvalidGrantError(AuthonomyAPIError, code="INVALID_GRANT"):
    """Code or refresh token unknown, used, expired or revoked."""


#: What the kit's refusals of the app's API key add: where that key is set.
_API_KEY_HINT = "; check the API key the app is configured with (AUTHONOMY_API_KEY)"


class InvalidAPIKeyError(AuthonomyAPIError, code="INVALID_API_KEY"):
    """The API key is missing or unknown."""

    def __str__(self) -> str:
        return super().__str__() + _API_KEY_HINT


class InsufficientPermissionsError(AuthonomyAPIError, code="INSUFFICIENT_PERMISSIONS"):
    """The API key lacks the permission for this call."""

    def __str__(self) -> str:
        return super().__str__() + _API_KEY_HINT


class InvalidCustomerError(AuthonomyAPIError, code="INVALID_CUSTOMER"):
    """The customer id is unknown."""


class NotFoundError(AuthonomyAPIError, code="NOT_FOUND"):
    """Any other unknown resource."""


class APIValidationError(AuthonomyAPIError, code="VALIDATION_ERROR"):
    """Well-formed but invalid input."""


class IdPNotConfiguredError(AuthonomyAPIError, code="IDP_NOT_CONFIGURED"):
    """A login was started for a customer with no IdP."""


class RateLimitedError(AuthonomyAPIError, code="RATE_LIMITED"):
    """Over the rate limit; ``retry_after`` is in seconds when the server said."""

    retry_after: float | None = None


class InternalServerError(AuthonomyAPIError, code="INTERNAL_ERROR"):
    """The server failed."""


def api_error_for(
    code: str,
    message: str,
    *,
    status: int,
    details: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> AuthonomyAPIError:
    """Build the subclass that matches an envelope's error ``code``."""
    cls = _API_ERRORS.get(code, AuthonomyAPIError)
    return cls(message, code=code, status=status, details=details, request_id=request_id)


class AuthonomyUnavailableError(AuthonomyError, code="TEMPORARILY_UNAVAILABLE"):
    """Authonomy could not be reached, timed out, or kept failing with 5xx."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: Authonomy out of reach, failing or overloaded: errors that pass by themselves, so what
#: depends on the call waits (503, ``Retry-After``) rather than being refused for good.
OUTAGE_ERRORS = (AuthonomyUnavailableError, InternalServerError, RateLimitedError)


class PolicyUnavailableError(AuthonomyError, code="POLICY_UNAVAILABLE"):
    """A policy could not be fetched for a reason a retry does not cure by itself: the
    app's API key is not accepted, the key lacks the permission, or Authonomy's answer
    is malformed. Guarded requests are refused (500) until a later fetch succeeds.
    """

    def __init__(self, policy: str, failure: str) -> None:
        super().__init__(f"policy '{policy}' could not be fetched: {failure}")
        self.policy = policy
        self.failure = failure


class TokenError(AuthonomyError, code="INVALID_TOKEN"):
    """A token failed verification; ``reason`` is short and safe to log."""

    def __init__(self, reason: str, *, claim: str | None = None, kid: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.claim = claim
        self.kid = kid


class TokenExpiredError(TokenError, code="TOKEN_EXPIRED"):
    """The token's ``exp`` has passed (beyond the leeway)."""


class KeyNotFoundError(TokenError, code="KEY_NOT_FOUND"):
    """No signing key with the token's ``kid`` is known, even after a refetch."""


class LoginError(AuthonomyError, code="LOGIN_FAILED"):
    """A callback that cannot complete a login (state, issuer, nonce, IdP error)."""

    def __init__(self, reason: str, *, error: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class SessionError(AuthonomyError, code="SESSION_ERROR"):
    """A session that cannot be stored or read (too large, store failure)."""


class SessionTooLargeError(SessionError, code="SESSION_TOO_LARGE"):
    """A session too big for its store (the cookie store's size limit).

    Unlike other session errors this one is permanent: trying again later gives the same
    result. Use a server-side store (``RedisSessionStore``, ``MemorySessionStore``).
    """


class StoreUnavailableError(SessionError, code="STORE_UNAVAILABLE"):
    """A shared store (sessions, webhook replay, locks) cannot be reached or failed.

    Requests that need it are answered 503 with ``Retry-After: retry_after`` and keep
    their session; webhook deliveries are not acknowledged, so they are retried.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PolicyViolationError(AuthonomyError, code="POLICY_VIOLATED"):
    """The user failed a policy; ``login_can_cure`` says whether a fresh login helps."""

    def __init__(self, policy: str, reason: str, *, login_can_cure: bool = False) -> None:
        super().__init__(f"Policy '{policy}' not satisfied: {reason}")
        self.policy = policy
        self.reason = reason
        self.login_can_cure = login_can_cure


class ReplayStoreFullError(AuthonomyError, code="REPLAY_STORE_FULL"):
    """A bounded replay store holds as many ids as it may, all still inside the replay
    window; forgetting one would let its delivery be replayed, so the new one is refused
    (and retried by Authonomy later)."""


class WebhookVerificationError(AuthonomyError, code="WEBHOOK_VERIFICATION_FAILED"):
    """A webhook delivery failed verification; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PayloadTooLargeError(WebhookVerificationError, code="PAYLOAD_TOO_LARGE"):
    """The body is larger than the receiver accepts (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit
