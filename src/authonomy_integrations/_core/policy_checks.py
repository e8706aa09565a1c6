"""Policy decisions and step-up: which policy applies, fetched and cached, and what a
step-up login asks for.
"""

from __future__ import annotations

import logging
from typing import Any

from .._errors import (
    OUTAGE_ERRORS,
    AuthonomyAPIError,
    AuthonomyUnavailableError,
    PolicyUnavailableError,
)
from . import events as ev
from .context import Context, Part
from .effects import (
    Background,
    Exclusive,
    Flow,
)
from .policies import Policy, PolicyDecision, PolicyRegistry, evaluate, is_guard_policy
from .user import AuthonomyUser

__all__ = ["PolicyChecks"]

logger = logging.getLogger("authonomy_integrations")
_policy_logger = logging.getLogger("authonomy_integrations.policies")
#: Conditions whose failure a fresh login with MFA can cure.
_STEP_UP_MFA = "mfa_required"
_STEP_UP_AGE = "max_session_duration"


class PolicyChecks(Part):
    """Evaluates policies by name, fetching those not defined locally."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.policies = PolicyRegistry(ctx.config.policies, ttl=ctx.config.policy_cache_ttl)

    def check_policy(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> Flow[PolicyDecision]:
        """Evaluate the policy called ``name`` for ``user`` on this request."""
        policy = yield from self.policy(name)
        decision = self._decide(name, policy, user, client_ip)
        self.report_policy(decision, user)
        return decision

    def report_policy(self, decision: PolicyDecision, user: AuthonomyUser | None) -> None:
        """Report a policy decision. Passes are DEBUG and built only when someone listens:
        they happen on every guarded request."""
        if decision.allowed and not (self.events.listening or _policy_logger.isEnabledFor(10)):
            return
        uid = user.id if user is not None else None
        customer = user.customer_id if user is not None else None
        if decision.allowed:
            self.events.emit(
                ev.POLICY_PASSED, user_id=uid, customer_id=customer, policy=decision.policy
            )
            return
        reason = "+".join(decision.failed) or (
            "unauthenticated" if decision.login_can_cure else "undefined"
        )
        self.events.emit(
            ev.POLICY_FAILED,
            reason,
            user_id=uid,
            customer_id=customer,
            policy=decision.policy,
            failed=list(decision.failed),
            detail=decision.reason,
        )

    def policy_now(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision | None:
        """The decision when the policy is known and fresh, so no flow is needed; else
        ``None`` (run :meth:`check_policy`)."""
        now = self.clock()
        if self.policies.needs_fetch(name, now):
            return None
        policy = self.policies.lookup(name, now)
        if policy is None and not self.policies.is_missing(name):
            return None  # never fetched successfully: check_policy says why (503)
        return self._decide(name, policy, user, client_ip)

    def _decide(
        self, name: str, policy: Policy | None, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision:
        if policy is None:
            logger.error("policy %r is not defined locally nor at Authonomy", name)
            return PolicyDecision(False, name, f"policy '{name}' is not defined")
        if user is None:
            return PolicyDecision(False, name, "authentication required", login_can_cure=True)
        return evaluate(
            policy, user, client_ip=client_ip, now=self.clock(), leeway=self.config.leeway
        )

    def policy(self, name: str) -> Flow[Policy | None]:
        """The policy ``name``: local, cached, or fetched from Authonomy."""
        now = self.clock()
        known = self.policies.lookup(name, now)
        if known is not None:
            # Stale: one request refreshes in the background, every request (that one
            # too) goes on with the copy it has.
            if self.policies.claim_refresh(name, now, self._fetch_budget()):
                yield Background(lambda: self._fetch_policy(name, claimed=True))
            return known
        if self.policies.needs_fetch(name, now):
            # Nothing to serve yet: one request fetches, the others wait for it, but
            # never longer than one call to Authonomy may take.
            timeout = self.config.http_timeout
            yield Exclusive(f"policy:{name}", lambda: self._fetch_policy(name), timeout)
        found = self.policies.lookup(name, now)
        if found is None and not self.policies.is_missing(name):
            failure = self.policies.failure(name)
            if failure is not None:
                raise PolicyUnavailableError(name, failure)
            raise AuthonomyUnavailableError(
                f"policy '{name}' could not be fetched: Authonomy is unavailable", retry_after=5
            )
        return found

    def _fetch_budget(self) -> float:
        """Seconds a policy fetch may take, retries included, before another may start."""
        return self.config.http_timeout * (self.config.max_retries + 1) + 5.0

    def _fetch_policy(self, name: str, *, claimed: bool = False) -> Flow[None]:
        now = self.clock()
        if not claimed and not self.policies.needs_fetch(name, now):
            return
        try:
            found = yield from self.api.policies.find_by_name(name)
        except OUTAGE_ERRORS as exc:
            self.policies.fetch_failed(name, now)
            if self.policies.lookup(name, now) is None:
                raise AuthonomyUnavailableError(
                    f"policy '{name}' could not be fetched: Authonomy is unavailable",
                    retry_after=5,
                ) from exc
            return
        except AuthonomyAPIError as exc:
            self._refused(name, now, str(exc), exc)
            return
        try:
            policy = Policy.from_api(found) if found else None
        except ValueError as exc:
            self._refused(name, now, f"Authonomy returned a malformed policy: {exc}", exc)
            return
        self.policies.fetched(name, policy, now)

    def _refused(self, name: str, now: float, failure: str, cause: Exception) -> None:
        """A fetch that failed for a reason a retry does not cure by itself (the app's
        API key, a malformed answer): said once per try, at ERROR, and remembered until
        the next try, so the requests meanwhile get the same answer. With no copy of
        the policy to go on with, this request is refused too."""
        logger.error("policy %r could not be fetched: %s", name, failure)
        self.policies.fetch_failed(name, now, failure)
        if self.policies.lookup(name, now) is None:
            raise PolicyUnavailableError(name, failure) from cause

    def uses_policy(self, name: str) -> bool:
        """Whether the application itself uses the policy ``name``: defined in
        ``config.policies`` or checked by a ``require_policy`` guard."""
        return name in self.config.policies or is_guard_policy(name)

    def step_up_parameters(self, step_up: str | None) -> Flow[dict[str, Any]]:
        """What a step-up login for policy ``step_up`` asks Authonomy for."""
        # A step_up value comes from the query string: any other name would cost a
        # policy fetch and a cache entry per value an anonymous client makes up.
        if not step_up or not self.uses_policy(step_up):
            return {}
        policy = yield from self.policy(step_up)
        conditions = policy.conditions if policy is not None else {}
        extra: dict[str, Any] = {"prompt": "login"}
        if conditions.get(_STEP_UP_MFA):
            extra["acr_values"] = "mfa"
        if _STEP_UP_AGE in conditions:
            extra["max_age"] = 0
        return extra
