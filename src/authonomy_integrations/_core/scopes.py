"""Scope guards, framework-free: which scopes a guard names, which a caller lacks, and the
403 that says so (RFC 6750 §3.1 for bearer callers).

A user's scopes are its access token's ``scope`` claim, for a bearer token and for a
session cookie alike (a session's user is built from its access token), so one decision
serves both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .._errors import ConfigurationError
from .user import AuthonomyUser
from .web import Reply, _page, error_envelope, is_browser_navigation

__all__ = ["checked_scopes", "insufficient_scope", "missing_scopes"]

#: A scope token as RFC 6749 §3.3 allows it: printable ASCII without space, ``"`` or
#: ``\``; anything else could not be quoted safely into ``WWW-Authenticate``.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def checked_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """``scopes`` when each is a valid scope token and there is one at least; else a
    :class:`~authonomy_integrations._errors.ConfigurationError` at decoration time."""
    if not scopes:
        raise ConfigurationError("require_scopes", "name at least one scope")
    for scope in scopes:
        if not isinstance(scope, str) or not _SCOPE_TOKEN.fullmatch(scope):
            raise ConfigurationError(
                "require_scopes",
                f"{scope!r} is not a scope (printable ASCII without spaces or quotes)",
            )
    return scopes


def missing_scopes(required: tuple[str, ...], user: AuthonomyUser) -> tuple[str, ...]:
    """The scopes of ``required`` that ``user``'s access token does not grant."""
    granted = user.scopes
    return tuple(scope for scope in required if scope not in granted)


def insufficient_scope(
    required: tuple[str, ...],
    missing: tuple[str, ...],
    method: str,
    headers: Mapping[str, str],
) -> Reply:
    """403 ``INSUFFICIENT_SCOPE``; a bearer caller also gets the RFC 6750 challenge that
    names every scope the resource needs, a browser a page."""
    message = f"The access token lacks the scope {' '.join(missing)}"
    if is_browser_navigation(method, headers):
        return _page(403, "Access denied", message)
    body = error_envelope(
        "INSUFFICIENT_SCOPE", message, {"required": list(required), "missing": list(missing)}
    )
    if not headers.get("authorization", "").lower().startswith("bearer "):
        return Reply(403, body)
    challenge = (
        'Bearer realm="authonomy", error="insufficient_scope", '
        f'error_description="{message}", scope="{" ".join(required)}"'
    )
    return Reply(403, body, headers=(("www-authenticate", challenge),))
