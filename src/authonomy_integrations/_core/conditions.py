"""Policy conditions, one at a time: checking a condition's value, and whether it holds.

A condition this module does not know, or one whose value is malformed, is *unusable*: it
fails every evaluation (fail closed) and no new sign-in cures it. Conditions:

==========================  =========================================================
``mfa_required: true``      ``"mfa"`` is in the token's ``amr``
``max_session_duration: N`` now - ``auth_time`` <= N seconds (a sign-in time later
                            than now beyond ``leeway``, or than the token's ``iat``,
                            fails as an unknown one does)
``allowed_groups: [..]``    the user is in at least one of them
``required_scopes: [..]``   every one is in ``scope``
``allowed_customers: [..]`` ``customer_id`` is one of them
``ip_allowlist: [CIDR..]``  the client address is in one of them (IPv4 or IPv6)
==========================  =========================================================
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from .._errors import ConfigurationError
from .user import AuthonomyUser

__all__ = [
    "CONDITIONS",
    "DEFAULT_LEEWAY",
    "LOGIN_CURABLE_CONDITIONS",
    "Failure",
    "failures",
    "unusable_conditions",
    "validate_conditions",
]

#: Clock skew tolerated when the caller gives none (``AuthonomyConfig.leeway``'s default).
DEFAULT_LEEWAY = 30.0

#: Conditions a fresh sign-in can satisfy, so a browser may be sent through step-up login.
LOGIN_CURABLE_CONDITIONS = frozenset({"mfa_required", "max_session_duration"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# --- validating condition values ---------------------------------------------------


def _names(value: Any, *, allow_empty: bool) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return "must be a list of names"
    if not value and not allow_empty:
        return "must name at least one"
    return None


@lru_cache(maxsize=256)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _bad_mfa_required(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _bad_max_session_duration(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return "must be a positive number of seconds"
    return None


def _bad_ip_allowlist(value: Any) -> str | None:
    problem = _names(value, allow_empty=False)
    if problem is not None:
        return "must be a list of CIDR blocks"
    try:
        _networks(tuple(value))
    except ValueError as exc:
        return f"invalid CIDR block: {exc}"
    return None


_VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "mfa_required": _bad_mfa_required,
    "max_session_duration": _bad_max_session_duration,
    "allowed_groups": lambda value: _names(value, allow_empty=False),
    "required_scopes": lambda value: _names(value, allow_empty=True),
    "allowed_customers": lambda value: _names(value, allow_empty=False),
    "ip_allowlist": _bad_ip_allowlist,
}

#: Every condition this kit can evaluate.
CONDITIONS = frozenset(_VALIDATORS)


def unusable_conditions(conditions: Mapping[str, Any]) -> frozenset[str]:
    """The names among ``conditions`` that are unknown or whose value is malformed."""
    return frozenset(
        name
        for name, value in conditions.items()
        if name not in _VALIDATORS or _VALIDATORS[name](value) is not None
    )


def validate_conditions(conditions: Mapping[str, Any], *, field: str = "conditions") -> None:
    """Check locally defined conditions at start-up.

    Raises :class:`~authonomy_integrations._errors.ConfigurationError` whose ``field``
    names the bad condition, e.g. ``policies['admin'].ip_allowlist``.
    """
    if not isinstance(conditions, Mapping):
        raise ConfigurationError(field, "conditions must be a mapping")
    for name, value in conditions.items():
        validator = _VALIDATORS.get(name)
        if validator is None:
            known = ", ".join(sorted(CONDITIONS))
            raise ConfigurationError(f"{field}.{name}", f"unknown condition (known: {known})")
        problem = validator(value)
        if problem is not None:
            raise ConfigurationError(f"{field}.{name}", problem)


# --- evaluating conditions ---------------------------------------------------------


class _Request(NamedTuple):
    # A tuple, not a frozen dataclass: built on every guarded request.
    user: AuthonomyUser
    client_ip: str | None
    now: float
    leeway: float


def _duration(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _mfa_required(value: bool, request: _Request) -> str | None:
    if value and not request.user.mfa:
        return "multi-factor authentication required"
    return None


def _max_session_duration(value: int, request: _Request) -> str | None:
    auth_time = request.user.auth_time
    if auth_time is None:
        return "sign-in time unknown"
    if _signed_in_later(auth_time, request):
        # No sign-in happens after now, nor after its own token was issued: such a time
        # would make the session look fresh for as long as the token lives.
        return "sign-in time in the future"
    if request.now - auth_time > value:
        return f"session older than {_duration(value)}"
    return None


def _signed_in_later(auth_time: int, request: _Request) -> bool:
    """Whether ``auth_time`` is later than now (beyond ``leeway``) or than ``iat``."""
    if auth_time > request.now + request.leeway:
        return True
    issued = request.user.claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return False
    return auth_time > issued


def _allowed_groups(value: list[str], request: _Request) -> str | None:
    if request.user.groups.isdisjoint(value):
        return f"requires one of groups: {', '.join(value)}"
    return None


def _required_scopes(value: list[str], request: _Request) -> str | None:
    missing = [scope for scope in value if scope not in request.user.scopes]
    return f"missing scopes: {', '.join(missing)}" if missing else None


def _allowed_customers(value: list[str], request: _Request) -> str | None:
    if request.user.customer_id not in value:
        return "customer not allowed"
    return None


def _client_address(client_ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; match them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _ip_allowlist(value: list[str], request: _Request) -> str | None:
    address = _client_address(request.client_ip)
    if address is None:
        return "client address unknown"
    if not any(address in network for network in _networks(tuple(value))):
        return "client address not allowed"
    return None


_CHECKS: dict[str, Callable[[Any, _Request], str | None]] = {
    "mfa_required": _mfa_required,
    "max_session_duration": _max_session_duration,
    "allowed_groups": _allowed_groups,
    "required_scopes": _required_scopes,
    "allowed_customers": _allowed_customers,
    "ip_allowlist": _ip_allowlist,
}


@dataclass(frozen=True, slots=True)
class Failure:
    """A condition that did not hold, why, and whether a fresh sign-in could fix it."""

    condition: str
    reason: str
    login_can_cure: bool


def _check(name: str, value: Any, request: _Request, unusable: frozenset[str]) -> Failure | None:
    """Why the condition fails, or ``None`` when it holds."""
    if name in unusable:
        # Unknown or malformed stays so after a new sign-in: never curable, no step-up loop.
        problem = "unknown" if name not in _CHECKS else "invalid"
        return Failure(name, f"{problem} condition: {name}", login_can_cure=False)
    reason = _CHECKS[name](value, request)
    if reason is None:
        return None
    return Failure(name, reason, login_can_cure=name in LOGIN_CURABLE_CONDITIONS)


def failures(
    conditions: Mapping[str, Any],
    unusable: frozenset[str],
    user: AuthonomyUser,
    *,
    client_ip: str | None,
    now: float,
    leeway: float = DEFAULT_LEEWAY,
) -> list[Failure]:
    """Every condition that does not hold for ``user`` on a request from ``client_ip`` at
    ``now``, in the conditions' order (``unusable`` ones always fail); ``leeway`` is the
    clock skew tolerated, as for tokens."""
    request = _Request(user=user, client_ip=client_ip, now=now, leeway=leeway)
    return [
        failure
        for name, value in conditions.items()
        if (failure := _check(name, value, request, unusable)) is not None
    ]
