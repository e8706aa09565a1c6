"""Policy conditions, their evaluation, and the registry of known policies."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations._core.policies import (
    CONDITIONS,
    Policy,
    PolicyDecision,
    PolicyRegistry,
    evaluate,
    validate_conditions,
)
from authonomy_integrations._core.user import AuthonomyUser, UnauthenticatedUser
from authonomy_integrations._errors import ConfigurationError, PolicyViolationError

from .tokenfactory import TokenFactory

factory = TokenFactory()
NOW = float(factory.now)
OFFICE_IP = "203.0.113.7"


def user(**claims: Any) -> AuthonomyUser:
    return AuthonomyUser.from_claims(factory.claims(**claims))


def decide(
    conditions: dict[str, Any],
    who: AuthonomyUser | UnauthenticatedUser | None = None,
    *,
    client_ip: str | None = OFFICE_IP,
    now: float = NOW,
) -> PolicyDecision:
    policy = Policy(id="pol_1", name="test-policy", conditions=conditions)
    return evaluate(policy, who or user(), client_ip=client_ip, now=now)


# --- each condition ----------------------------------------------------------------


def test_mfa_required_passes_with_mfa_in_amr() -> None:
    assert decide({"mfa_required": True}, user(amr=["pwd", "mfa"])).allowed


def test_mfa_required_fails_without_mfa_and_login_can_cure_it() -> None:
    decision = decide({"mfa_required": True}, user(amr=["pwd"]))
    assert not decision.allowed
    assert decision.reason == "multi-factor authentication required"
    assert decision.login_can_cure and decision.failed == ("mfa_required",)


def test_mfa_required_false_demands_nothing() -> None:
    assert decide({"mfa_required": False}, user(amr=["pwd"])).allowed


def test_session_within_max_duration_passes() -> None:
    assert decide({"max_session_duration": 28800}, user(auth_time=NOW - 28800)).allowed


def test_session_older_than_max_duration_fails_and_login_can_cure_it() -> None:
    decision = decide({"max_session_duration": 28800}, user(auth_time=NOW - 28801))
    assert not decision.allowed
    assert decision.reason == "session older than 8h"
    assert decision.login_can_cure


def test_session_without_auth_time_fails_max_duration() -> None:
    decision = decide({"max_session_duration": 3600}, user(auth_time=None))
    assert not decision.allowed and decision.login_can_cure


@pytest.mark.parametrize(("seconds", "text"), [(1800, "30m"), (90, "90s"), (5400, "90m")])
def test_session_duration_reason_is_readable(seconds: int, text: str) -> None:
    decision = decide({"max_session_duration": seconds}, user(auth_time=NOW - seconds - 1))
    assert decision.reason == f"session older than {text}"


def test_member_of_an_allowed_group_passes() -> None:
    assert decide({"allowed_groups": ["admins", "ops"]}, user(groups=["ops"])).allowed


def test_user_outside_the_allowed_groups_fails_and_login_cannot_cure_it() -> None:
    decision = decide({"allowed_groups": ["admins"]}, user(groups=["engineering"]))
    assert not decision.allowed
    assert decision.reason == "requires one of groups: admins"
    assert not decision.login_can_cure


def test_all_required_scopes_present_passes() -> None:
    assert decide({"required_scopes": ["openid", "email"]}).allowed


def test_missing_required_scope_fails_and_names_it() -> None:
    decision = decide({"required_scopes": ["openid", "admin:write"]})
    assert not decision.allowed and decision.reason == "missing scopes: admin:write"


def test_allowed_customer_passes() -> None:
    assert decide({"allowed_customers": ["acme-corp", "globex"]}).allowed


def test_other_customer_fails() -> None:
    decision = decide({"allowed_customers": ["globex"]})
    assert not decision.allowed and decision.reason == "customer not allowed"


@pytest.mark.parametrize(
    ("allowlist", "client_ip"),
    [
        (["203.0.113.0/24"], "203.0.113.7"),
        (["10.0.0.0/8", "203.0.113.7/32"], "203.0.113.7"),
        (["2001:db8::/32"], "2001:db8::1"),
        (["203.0.113.0/24"], "::ffff:203.0.113.7"),
        (["203.0.113.5/24"], "203.0.113.200"),
    ],
)
def test_client_address_inside_the_allowlist_passes(allowlist: list[str], client_ip: str) -> None:
    assert decide({"ip_allowlist": allowlist}, client_ip=client_ip).allowed


@pytest.mark.parametrize(
    ("allowlist", "client_ip"),
    [
        (["203.0.113.0/24"], "198.51.100.1"),
        (["2001:db8::/32"], "2001:db9::1"),
        (["203.0.113.0/24"], "2001:db8::1"),
        (["::ffff:0:0/96"], "203.0.113.7"),
    ],
)
def test_client_address_outside_the_allowlist_fails(allowlist: list[str], client_ip: str) -> None:
    decision = decide({"ip_allowlist": allowlist}, client_ip=client_ip)
    assert not decision.allowed and decision.reason == "client address not allowed"
    assert not decision.login_can_cure


@pytest.mark.parametrize("client_ip", [None, "", "not-an-ip", "203.0.113.7:443"])
def test_missing_or_invalid_client_address_fails_the_allowlist(client_ip: str | None) -> None:
    decision = decide({"ip_allowlist": ["0.0.0.0/0", "::/0"]}, client_ip=client_ip)
    assert not decision.allowed and decision.reason == "client address unknown"


# --- failing closed, combining, and who is asking ------------------------------------


def test_unknown_condition_fails_closed() -> None:
    decision = decide({"mfa_required": False, "office_hours_only": True})
    assert not decision.allowed
    assert decision.reason == "unknown condition: office_hours_only"
    assert not decision.login_can_cure


@pytest.mark.parametrize(
    "conditions",
    [
        {"mfa_required": "yes"},
        {"max_session_duration": "8h"},
        {"max_session_duration": True},
        {"allowed_groups": "admins"},
        {"allowed_groups": []},
        {"required_scopes": [1]},
        {"allowed_customers": None},
        {"ip_allowlist": ["not-a-network"]},
    ],
)
def test_malformed_condition_from_the_api_fails_closed(conditions: dict[str, Any]) -> None:
    who = user(amr=["pwd", "mfa"], groups=["admins"], auth_time=NOW)
    decision = decide(conditions, who)
    assert not decision.allowed
    assert decision.reason == f"invalid condition: {next(iter(conditions))}"
    assert not decision.login_can_cure


def test_every_condition_must_hold() -> None:
    conditions = {"mfa_required": True, "allowed_groups": ["admins"]}
    assert decide(conditions, user(amr=["mfa"], groups=["admins"])).allowed
    assert not decide(conditions, user(amr=["mfa"], groups=["staff"])).allowed
    assert not decide(conditions, user(amr=["pwd"], groups=["admins"])).allowed


def test_every_failing_condition_is_reported() -> None:
    decision = decide(
        {"mfa_required": True, "max_session_duration": 60},
        user(amr=["pwd"], auth_time=NOW - 61),
    )
    assert decision.reason == "multi-factor authentication required; session older than 1m"
    assert decision.failed == ("mfa_required", "max_session_duration")
    assert decision.login_can_cure


def test_login_cannot_cure_when_any_failure_is_not_login_curable() -> None:
    decision = decide(
        {"mfa_required": True, "allowed_customers": ["globex"]},
        user(amr=["pwd"]),
    )
    assert decision.failed == ("mfa_required", "allowed_customers")
    assert not decision.login_can_cure


def test_empty_policy_allows_any_signed_in_user() -> None:
    assert decide({}).allowed


def test_unauthenticated_user_is_denied_and_sent_to_login() -> None:
    decision = decide({}, UnauthenticatedUser())
    assert not decision.allowed and decision.login_can_cure
    assert decision.reason == "authentication required"


def test_denied_decision_raises_policy_violation() -> None:
    decision = decide({"mfa_required": True}, user(amr=["pwd"]))
    with pytest.raises(PolicyViolationError) as caught:
        decision.raise_for_denial()
    assert caught.value.policy == "test-policy"
    assert caught.value.login_can_cure
    decide({}).raise_for_denial()  # allowed: nothing raised


# --- validating local definitions ----------------------------------------------------


def test_valid_conditions_pass_validation() -> None:
    validate_conditions(
        {
            "mfa_required": True,
            "max_session_duration": 28800,
            "allowed_groups": ["admins"],
            "required_scopes": [],
            "allowed_customers": ["acme-corp"],
            "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"],
        }
    )


def test_every_condition_in_the_contract_is_known() -> None:
    contract = {
        "mfa_required",
        "max_session_duration",
        "allowed_groups",
        "required_scopes",
        "allowed_customers",
        "ip_allowlist",
    }
    assert contract == CONDITIONS


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ("mfa_requird", True),
        ("mfa_required", 1),
        ("max_session_duration", 0),
        ("max_session_duration", 1.5),
        ("allowed_groups", []),
        ("allowed_groups", "admins"),
        ("required_scopes", ["ok", ""]),
        ("allowed_customers", [None]),
        ("ip_allowlist", ["10.0.0.0/33"]),
        ("ip_allowlist", []),
    ],
)
def test_invalid_condition_is_reported_by_name(condition: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_conditions({condition: value}, field="policies['admin']")
    assert caught.value.field == f"policies['admin'].{condition}"


def test_conditions_must_be_a_mapping() -> None:
    with pytest.raises(ConfigurationError):
        validate_conditions(["mfa_required"])  # type: ignore[arg-type]


# --- Policy.from_api -------------------------------------------------------------


def test_policy_is_built_from_the_api_representation() -> None:
    policy = Policy.from_api(
        {
            "id": "pol_1",
            "name": "require-mfa",
            "description": "Require multi-factor authentication",
            "type": "authentication",
            "conditions": {"mfa_required": True, "max_session_duration": 28800},
        }
    )
    assert (policy.id, policy.name, policy.type) == ("pol_1", "require-mfa", "authentication")
    assert dict(policy.conditions) == {"mfa_required": True, "max_session_duration": 28800}
    with pytest.raises(TypeError):
        policy.conditions["mfa_required"] = False  # type: ignore[index]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "no-id", "conditions": {}},
        {"id": "pol_1", "conditions": {}},
        {"id": "pol_1", "name": "x", "conditions": ["mfa_required"]},
    ],
)
def test_malformed_api_policy_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Policy.from_api(data)


# --- PolicyRegistry ----------------------------------------------------------------

REMOTE = Policy(id="pol_9", name="remote", conditions={"mfa_required": True})
REMOTE_V2 = Policy(id="pol_9", name="remote", conditions={"mfa_required": False})


def test_local_policy_wins_and_is_never_fetched() -> None:
    registry = PolicyRegistry({"remote": {"allowed_groups": ["admins"]}})
    assert not registry.needs_fetch("remote", NOW)
    registry.fetched("remote", REMOTE, NOW)
    local = registry.lookup("remote", NOW)
    assert local is not None and dict(local.conditions) == {"allowed_groups": ["admins"]}
    assert not registry.needs_fetch("remote", NOW)


def test_invalid_local_policy_fails_at_construction_naming_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        PolicyRegistry({"admin-only": {"allowed_group": ["admins"]}})
    assert caught.value.field == "policies['admin-only'].allowed_group"


def test_unknown_policy_needs_a_fetch() -> None:
    registry = PolicyRegistry()
    assert registry.lookup("remote", NOW) is None
    assert registry.needs_fetch("remote", NOW)


def test_fetched_policy_is_fresh_until_the_ttl_then_served_stale() -> None:
    registry = PolicyRegistry(ttl=300)
    registry.fetched("remote", REMOTE, NOW)
    assert registry.lookup("remote", NOW + 1) == REMOTE
    assert not registry.needs_fetch("remote", NOW + 299)
    assert registry.needs_fetch("remote", NOW + 300)
    assert registry.lookup("remote", NOW + 300) == REMOTE


def test_refresh_replaces_the_policy() -> None:
    registry = PolicyRegistry(ttl=300)
    registry.fetched("remote", REMOTE, NOW)
    registry.fetched("remote", REMOTE_V2, NOW + 300)
    assert registry.lookup("remote", NOW + 300) == REMOTE_V2


def test_failed_refresh_keeps_the_last_good_policy_and_backs_off() -> None:
    registry = PolicyRegistry(ttl=300, retry_after=10)
    registry.fetched("remote", REMOTE, NOW)
    registry.fetch_failed("remote", NOW + 300)
    assert registry.lookup("remote", NOW + 300) == REMOTE
    assert not registry.needs_fetch("remote", NOW + 309)
    assert registry.needs_fetch("remote", NOW + 310)


def test_nonexistent_policy_is_remembered_briefly() -> None:
    registry = PolicyRegistry(missing_ttl=30)
    registry.fetched("ghost", None, NOW)
    assert registry.lookup("ghost", NOW) is None and registry.is_missing("ghost")
    assert not registry.needs_fetch("ghost", NOW + 29)
    assert registry.needs_fetch("ghost", NOW + 30)


def test_failed_first_fetch_is_not_mistaken_for_a_missing_policy() -> None:
    registry = PolicyRegistry(retry_after=10)
    registry.fetch_failed("remote", NOW)
    assert registry.lookup("remote", NOW) is None
    assert not registry.is_missing("remote")
    assert not registry.needs_fetch("remote", NOW + 9)
