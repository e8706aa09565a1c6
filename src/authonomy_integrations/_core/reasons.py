"""Reason codes: the short, bounded labels events carry for why something was refused.

A code becomes a log field and a metric label, so each is one of a known set, or a
default: text that comes from a request never grows the set of labels.
"""

from __future__ import annotations

import re

from .._errors import KeyNotFoundError, TokenError, TokenExpiredError

__all__ = ["login_reason", "reason_code", "token_reason"]

_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")


def reason_code(value: object, default: str) -> str:
    """``value`` when it looks like a short lower-case code, else ``default`` (values that
    come from a request must not grow the set of metric labels without bound)."""
    if isinstance(value, str) and _CODE.fullmatch(value):
        return value
    return default


#: Token refusal reasons by the claim that failed.
_CLAIM_REASONS = {
    "aud": "wrong_audience",
    "iss": "wrong_issuer",
    "nbf": "not_yet_valid",
    "iat": "not_yet_valid",
    "exp": "expired",
    "nonce": "wrong_nonce",
    "sub": "missing_subject",
}
#: Token refusal reasons by the refusal's text, for those no claim names.
_TEXT_REASONS = {
    "invalid signature": "bad_signature",
    "algorithm does not match the key": "bad_signature",
    "algorithm not allowed": "bad_algorithm",
    "wrong token type": "wrong_type",
    "token too large": "too_large",
    "the token's session has ended (signed out)": "revoked",
    "the token's customer is not accepted by this app": "customer_not_accepted",
}


def token_reason(exc: TokenError) -> str:
    """The refusal code of a token error: ``expired``, ``bad_signature``, ``unknown_key``,
    ``wrong_audience``, ``revoked`` ... (``malformed`` for the rest)."""
    if isinstance(exc, TokenExpiredError):
        return "expired"
    if isinstance(exc, KeyNotFoundError):
        return "unknown_key"
    if exc.claim in _CLAIM_REASONS:
        return _CLAIM_REASONS[exc.claim]
    return _TEXT_REASONS.get(exc.reason, "malformed")


#: Codes a failed login may be reported with: the OAuth errors an identity provider
#: returns (RFC 6749, OpenID Connect) and the kit's own. Anything else in the callback's
#: ``error`` parameter comes from the request and is reported as ``login_failed``.
_LOGIN_REASONS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "login_required",
        "consent_required",
        "interaction_required",
        "account_selection_required",
        "customer_not_allowed",
        "customer_required",
        "invalid_customer",
        "not_configured",
        "session_too_large",
        "customer_mismatch",
        "unknown_host",
        "wrong_user",
        "invalid_grant",
        "no_id_token",
        "subject_mismatch",
        *(f"token_{reason}" for reason in {*_CLAIM_REASONS.values(), *_TEXT_REASONS.values()}),
        "token_expired",
        "token_unknown_key",
        "token_malformed",
    }
)


def login_reason(error: str | None) -> str:
    """The reason code of a failed login with ``LoginError.error`` ``error``."""
    return error if error in _LOGIN_REASONS else "login_failed"
