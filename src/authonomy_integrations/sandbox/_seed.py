"""The sandbox's seeded world: stable keys, customers, users and the ``require-mfa`` policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._models import ApiKey, MockUser, StoredCustomer, StoredPolicy

if TYPE_CHECKING:
    from ._state import SandboxState

__all__ = [
    "AUDIENCE",
    "AUTHENTICATION_API_KEY",
    "CONFIGURATION_API_KEY",
    "FULL_API_KEY",
    "READ_ONLY_API_KEY",
    "SANDBOX_MFA_CODE",
    "seed_state",
]

AUDIENCE = "app_sandbox"
"""The application id every seeded key belongs to; tokens carry it as ``aud``."""
FULL_API_KEY = "ak_sandbox_full_5f3c9e1a7b2d4c6e8f0a1b3c5d7e9f10"
"""Full access."""
READ_ONLY_API_KEY = "ak_sandbox_read_2a4c6e8f0b1d3f5a7c9e1b3d5f7a9c11"
"""Read-only: GET endpoints only."""
AUTHENTICATION_API_KEY = "ak_sandbox_auth_7e9a1c3e5b7d9f1a3c5e7b9d1f3a5c12"
"""Authentication only: the ``/auth`` endpoints."""
CONFIGURATION_API_KEY = "ak_sandbox_conf_9c1e3a5c7e9b1d3f5a7c9e1b3d5f7a13"
"""Configuration: customers, policies and webhooks (and reading them)."""
SANDBOX_MFA_CODE = "123456"
"""The one-time code the sandbox's MFA step accepts."""

_SEEDED_AT = 1_704_067_200.0  # 2024-01-01T00:00:00Z: seeded records predate anything created

_KEYS = (
    ApiKey(FULL_API_KEY, "sandbox-full", frozenset({"full"}), AUDIENCE),
    ApiKey(READ_ONLY_API_KEY, "sandbox-read-only", frozenset({"read"}), AUDIENCE),
    ApiKey(AUTHENTICATION_API_KEY, "sandbox-auth", frozenset({"authentication"}), AUDIENCE),
    ApiKey(CONFIGURATION_API_KEY, "sandbox-config", frozenset({"configuration"}), AUDIENCE),
)

_USERS = (
    MockUser(
        "user_alice", "alice", "acme-corp", "alice@acme-corp.com", "Alice Anderson",
        ("admins", "engineering"), mfa_enrolled=True,
    ),
    MockUser(
        "user_bob", "bob", "acme-corp", "bob@acme-corp.com", "Bob Brown",
        ("engineering",), mfa_enrolled=False,
    ),
    MockUser(
        "user_carol", "carol", "globex", "carol@globex.com", "Carol Chen",
        ("finance",), mfa_enrolled=False,
    ),
)  # fmt: skip


def _customers() -> list[StoredCustomer]:
    okta = {
        "type": "okta",
        "domain": "acme-corp.okta.com",
        "client_id": "0oa_sandbox_acme",
        "scopes": ["openid", "profile", "email", "groups"],
        "client_secret_set": True,
    }
    azure = {
        "type": "azure_ad",
        "domain": "login.microsoftonline.com/globex.com",
        "client_id": "sandbox-globex-app",
        "scopes": ["openid", "profile", "email"],
        "client_secret_set": True,
    }
    return [
        StoredCustomer(
            "acme-corp", "Acme Corp", "active", ["acme-corp.com"], _SEEDED_AT, okta, "s3cret"
        ),
        StoredCustomer(
            "globex", "Globex Corporation", "active", ["globex.com"], _SEEDED_AT + 1, azure
        ),
        StoredCustomer("initech", "Initech", "active", ["initech.com"], _SEEDED_AT + 2),
    ]


def seed_state(state: SandboxState) -> None:
    """Fill an empty state with the documented seed data."""
    for key in _KEYS:
        state.api_keys[key.key] = key
    for customer in _customers():
        state.customers[customer.id] = customer
    for user in _USERS:
        state.users[user.username] = user
    policy = StoredPolicy(
        "pol_require_mfa",
        "require-mfa",
        "Require multi-factor authentication",
        "authentication",
        {"mfa_required": True, "max_session_duration": 28800},
        _SEEDED_AT,
        _SEEDED_AT,
    )
    state.policies[policy.id] = policy
    state.customers["acme-corp"].policy_ids.append(policy.id)
