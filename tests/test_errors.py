"""The exception tree: each class's code, and the API error built for an envelope's code."""

from __future__ import annotations

import pytest

from authonomy_integrations import _errors as errors
from authonomy_integrations._errors import (
    AuthonomyAPIError,
    AuthonomyError,
    NotFoundError,
    RateLimitedError,
    api_error_for,
)

API_ERRORS = {
    "INVALID_REQUEST": errors.InvalidRequestError,
    "INVALID_GRANT": errors.InvalidGrantError,
    "INVALID_API_KEY": errors.InvalidAPIKeyError,
    "INSUFFICIENT_PERMISSIONS": errors.InsufficientPermissionsError,
    "INVALID_CUSTOMER": errors.InvalidCustomerError,
    "NOT_FOUND": errors.NotFoundError,
    "VALIDATION_ERROR": errors.APIValidationError,
    "IDP_NOT_CONFIGURED": errors.IdPNotConfiguredError,
    "RATE_LIMITED": errors.RateLimitedError,
    "INTERNAL_ERROR": errors.InternalServerError,
}


@pytest.mark.parametrize(("code", "cls"), API_ERRORS.items())
def test_an_envelope_code_builds_its_own_error_class(code: str, cls: type) -> None:
    exc = api_error_for(code, "it failed", status=400, request_id="req_1")
    assert type(exc) is cls
    assert exc.code == code == cls.code
    assert str(exc).startswith(f"{code}: it failed (request_id=req_1)")
    assert (exc.status, exc.request_id) == (400, "req_1")


@pytest.mark.parametrize("code", ["INVALID_API_KEY", "INSUFFICIENT_PERMISSIONS"])
def test_a_refused_api_key_names_the_variable_that_sets_it(code: str) -> None:
    exc = api_error_for(code, "the key was refused", status=401)
    assert str(exc) == (
        f"{code}: the key was refused; check the API key the app is configured with "
        "(AUTHONOMY_API_KEY)"
    )


def test_an_unknown_code_is_a_plain_api_error_keeping_the_code() -> None:
    exc = api_error_for("CONFLICT", "taken", status=409)
    assert type(exc) is AuthonomyAPIError
    assert exc.code == "CONFLICT"


def test_an_application_subclass_does_not_take_over_a_code() -> None:
    class TenantNotFound(NotFoundError, code="NOT_FOUND"):
        """An application's own refinement of NOT_FOUND."""

    class Throttled(RateLimitedError, code="THROTTLED"):
        """An application's own code."""

    assert TenantNotFound.code == "NOT_FOUND" and Throttled.code == "THROTTLED"
    assert type(api_error_for("NOT_FOUND", "gone", status=404)) is NotFoundError
    assert type(api_error_for("THROTTLED", "slow down", status=429)) is AuthonomyAPIError


def test_every_error_names_its_code_and_keeps_its_context() -> None:
    codes = {
        errors.ConfigurationError("app_url", "bad"): "CONFIGURATION_ERROR",
        errors.TokenExpiredError("expired", claim="exp"): "TOKEN_EXPIRED",
        errors.KeyNotFoundError("no key", kid="k1"): "KEY_NOT_FOUND",
        errors.SessionTooLargeError("too big"): "SESSION_TOO_LARGE",
        errors.StoreUnavailableError("down", retry_after=2): "STORE_UNAVAILABLE",
        errors.ReplayStoreFullError("full"): "REPLAY_STORE_FULL",
        errors.PayloadTooLargeError(10): "PAYLOAD_TOO_LARGE",
        errors.MissingExtraError("redis store", "redis", "redis"): "MISSING_EXTRA",
    }
    for exc, code in codes.items():
        assert isinstance(exc, AuthonomyError)
        assert exc.code == type(exc).code == code
    assert isinstance(errors.MissingExtraError("x", "redis", "redis"), ImportError)
    assert AuthonomyError("plain").code == "AUTHONOMY_ERROR"
