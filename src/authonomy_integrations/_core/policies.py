"""Policies: what one is, evaluating it for a request, and which to fetch when.

A policy applies only if every one of its conditions holds (see
:mod:`authonomy_integrations._core.conditions` for the conditions and how each is
checked); a condition that is unknown or malformed fails the policy (fail closed).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from .._errors import PolicyViolationError
from .conditions import (
    CONDITIONS,
    DEFAULT_LEEWAY,
    LOGIN_CURABLE_CONDITIONS,
    failures,
    unusable_conditions,
    validate_conditions,
)
from .user import AuthonomyUser, UnauthenticatedUser

__all__ = [
    "CONDITIONS",
    "LOGIN_CURABLE_CONDITIONS",
    "Policy",
    "PolicyDecision",
    "PolicyRegistry",
    "evaluate",
    "is_guard_policy",
    "note_guard_policy",
    "validate_conditions",
]


@dataclass(frozen=True, slots=True)
class Policy:
    """A named set of conditions, from the API or defined locally."""

    id: str
    name: str
    description: str = ""
    type: str = "authorization"
    conditions: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    unusable: frozenset[str] = field(init=False, repr=False, compare=False)
    """Conditions that are unknown or malformed: each fails the policy (fail closed).
    Worked out once here, not on every evaluation."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "unusable", unusable_conditions(self.conditions))

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from the API's JSON; :class:`ValueError` if it is not one.

        Conditions are not validated here: unknown or malformed ones fail at evaluation.
        """
        policy_id, name = data.get("id"), data.get("name")
        conditions = data.get("conditions", {})
        if not isinstance(policy_id, str) or not isinstance(name, str):
            raise ValueError("policy needs string id and name")
        if not isinstance(conditions, Mapping):
            raise ValueError(f"policy {name!r}: conditions must be an object")
        return cls(
            id=policy_id,
            name=name,
            description=str(data.get("description") or ""),
            type=str(data.get("type") or "authorization"),
            conditions=MappingProxyType(dict(conditions)),
        )

    @classmethod
    def local(cls, name: str, conditions: Mapping[str, Any]) -> Policy:
        """A locally defined policy; raises ConfigurationError for bad conditions."""
        validate_conditions(conditions, field=f"policies[{name!r}]")
        return cls(id=f"local:{name}", name=name, conditions=MappingProxyType(dict(conditions)))


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The outcome of evaluating one policy for one request.

    ``failed`` names the conditions that did not hold, in the policy's order, so an
    adapter can ask for exactly what is missing (``acr_values=mfa``, ``prompt=login``).
    """

    allowed: bool
    policy: str
    reason: str | None = None
    login_can_cure: bool = False
    failed: tuple[str, ...] = ()

    def raise_for_denial(self) -> None:
        """Raise :class:`~authonomy_integrations._errors.PolicyViolationError` if denied."""
        if not self.allowed:
            raise PolicyViolationError(
                self.policy, self.reason or "denied", login_can_cure=self.login_can_cure
            )


# --- evaluating a policy ---------------------------------------------------------


@lru_cache(maxsize=1024)
def _allowed(name: str) -> PolicyDecision:
    # Decisions are immutable values: the "allowed" one for a name can be shared.
    return PolicyDecision(True, name)


def evaluate(
    policy: Policy,
    user: AuthonomyUser | UnauthenticatedUser,
    *,
    client_ip: str | None,
    now: float,
    leeway: float = DEFAULT_LEEWAY,
) -> PolicyDecision:
    """Decide whether ``user``, on a request from ``client_ip`` at ``now``, meets ``policy``
    (``leeway``: the clock skew tolerated, as for tokens).

    Every failing condition is reported in ``reason``; ``login_can_cure`` is true only
    when a fresh sign-in could fix all of them.
    """
    if not isinstance(user, AuthonomyUser):
        return PolicyDecision(False, policy.name, "authentication required", True)
    failed = failures(
        policy.conditions, policy.unusable, user, client_ip=client_ip, now=now, leeway=leeway
    )
    if not failed:
        return _allowed(policy.name)
    return PolicyDecision(
        allowed=False,
        policy=policy.name,
        reason="; ".join(failure.reason for failure in failed),
        login_can_cure=all(failure.login_can_cure for failure in failed),
        failed=tuple(failure.condition for failure in failed),
    )


# --- which policy names the application uses --------------------------------------

#: Policy names that ``require_policy`` guards were built for in this process. Guards are
#: made at import time, from the application's code, so the set is small and fixed; the
#: bound only keeps a guard factory called with request data from growing it for ever.
_GUARD_POLICIES: set[str] = set()
_MAX_GUARD_POLICIES = 10_000


def note_guard_policy(name: str) -> None:
    """Remember that a guard checks the policy ``name`` (see :func:`is_guard_policy`)."""
    if len(_GUARD_POLICIES) < _MAX_GUARD_POLICIES:
        _GUARD_POLICIES.add(name)


def is_guard_policy(name: str) -> bool:
    """Whether some guard of this process checks the policy ``name``.

    Only such names (and locally defined policies) are worth any work when a request
    names them: a login's ``step_up`` naming anything else is ignored.
    """
    return name in _GUARD_POLICIES


# --- which policies to fetch -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    policy: Policy | None
    answered: bool  # the API said something (a policy, or "no such policy")
    refresh_at: float
    #: Why the last fetch failed when it was not a passing outage (an API key Authonomy
    #: does not accept, a malformed answer): what the requests waiting for the retry
    #: are told.
    failure: str | None = None


class PolicyRegistry:
    """Policies by name: local definitions, and the last good copy of fetched ones.

    Local definitions are validated at construction and always win. For the others the
    caller fetches when :meth:`needs_fetch` says so and reports with :meth:`fetched` or
    :meth:`fetch_failed`. A stale policy is still returned by :meth:`lookup`, so requests
    are served by the last good copy while a refresh runs. "No such policy" is remembered
    for ``missing_ttl`` seconds; after a failed fetch the next try waits ``retry_after``.
    At most ``max_entries`` fetched names are kept (the oldest answer is dropped first).
    """

    def __init__(
        self,
        local: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        ttl: float = 300.0,
        missing_ttl: float = 30.0,
        retry_after: float = 10.0,
        max_entries: int = 1024,
    ) -> None:
        self._local = {name: Policy.local(name, conds) for name, conds in (local or {}).items()}
        self.ttl = ttl
        self.missing_ttl = missing_ttl
        self.retry_after = retry_after
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._claims = threading.Lock()

    def lookup(self, name: str, now: float) -> Policy | None:
        """The policy called ``name``, possibly stale; ``None`` if not known (yet)."""
        del now  # stale entries are served on purpose; see needs_fetch
        local = self._local.get(name)
        if local is not None:
            return local
        entry = self._entries.get(name)
        return entry.policy if entry is not None else None

    def needs_fetch(self, name: str, now: float) -> bool:
        """Whether ``name`` should be fetched: never fetched, or stale, and not backing off."""
        if name in self._local:
            return False
        entry = self._entries.get(name)
        return entry is None or now >= entry.refresh_at

    def claim_refresh(self, name: str, now: float, hold: float) -> bool:
        """Whether the caller is the one to refresh the stale policy ``name`` now.

        Exactly one caller gets ``True`` however many see the policy stale at once; the
        others go on with the stale copy. The claim lasts ``hold`` seconds unless
        :meth:`fetched` or :meth:`fetch_failed` reports sooner (so a refresh that never
        reports does not stop the next one).
        """
        with self._claims:
            entry = self._entries.get(name)
            if entry is None or not self.needs_fetch(name, now):
                return False
            self._entries[name] = _Entry(entry.policy, entry.answered, now + hold)
            return True

    def is_missing(self, name: str) -> bool:
        """Whether the API's last answer was that no policy has this name."""
        entry = self._entries.get(name)
        return (
            name not in self._local
            and entry is not None
            and entry.answered
            and entry.policy is None
        )

    def fetched(self, name: str, policy: Policy | None, now: float) -> None:
        """Record the API's answer for ``name``; ``None`` means there is no such policy."""
        ttl = self.ttl if policy is not None else self.missing_ttl
        self._keep(name, _Entry(policy=policy, answered=True, refresh_at=now + ttl))

    def failure(self, name: str) -> str | None:
        """Why the last fetch of ``name`` failed, when Authonomy refused it for a reason
        a retry does not cure by itself; ``None`` otherwise."""
        entry = self._entries.get(name)
        return entry.failure if entry is not None else None

    def fetch_failed(self, name: str, now: float, failure: str | None = None) -> None:
        """Record a failed fetch: keep what was known and try again after ``retry_after``.

        ``failure`` says why, when it was not a passing outage (see :meth:`failure`).
        """
        previous = self._entries.get(name)
        self._keep(
            name,
            _Entry(
                policy=previous.policy if previous else None,
                answered=previous.answered if previous else False,
                refresh_at=now + self.retry_after,
                failure=failure,
            ),
        )

    def _keep(self, name: str, entry: _Entry) -> None:
        entries = self._entries
        entries.pop(name, None)
        entries[name] = entry
        while len(entries) > self.max_entries:
            entries.pop(next(iter(entries)), None)

    def __len__(self) -> int:
        """How many fetched names are remembered (local definitions not counted)."""
        return len(self._entries)
