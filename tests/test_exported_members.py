"""The public surface: which modules users import, and what each one exports.

Everything else lives in modules or packages whose names start with an underscore; these
tests keep it that way, so the surface reads at a glance from the file tree.
"""

from __future__ import annotations

import ast
import importlib
import types
from collections import defaultdict
from pathlib import Path

import pytest

import authonomy_integrations

PACKAGE_DIR = Path(authonomy_integrations.__file__).parent

PUBLIC_MODULES = [
    "authonomy_integrations",
    "authonomy_integrations.django",
    "authonomy_integrations.django.rest_framework",
    "authonomy_integrations.flask",
    "authonomy_integrations.quart",
    "authonomy_integrations.litestar",
    "authonomy_integrations.sandbox",
    "authonomy_integrations.starlette",
    "authonomy_integrations.stores",
    "authonomy_integrations.testing",
    "authonomy_integrations.testing.store_contract",
    "authonomy_integrations.webhooks",
]
#: Public by a framework's convention rather than for users to import.
CONVENTIONAL_MODULES = {
    "authonomy_integrations.django.apps": "Django finds an app's AppConfig in `apps`",
    "authonomy_integrations.sandbox.__main__": "`python -m authonomy_integrations.sandbox`",
}
#: The same name in each adapter, by design: users pick the adapter's package.
PER_ADAPTER_NAMES = {
    "Authonomy",
    "AuthonomyMiddleware",
    "access_token",
    "current_user",
    "end_sessions",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
}

API_NAMES = {
    "authonomy_integrations": [
        "AsyncAuthonomyClient",
        "AuthEvent",
        "AuthonomyClient",
        "AuthonomyConfig",
        "AuthonomyError",
        "AuthonomyAPIError",
        "AuthonomyUser",
        "Customer",
        "PolicyRecord",
        "TokenResponse",
    ],
    "authonomy_integrations.starlette": [
        "AuthonomyMiddleware",
        "access_token",
        "current_user",
        "end_sessions",
        "login_required",
        "require_groups",
        "require_policy",
        "require_scopes",
        "webhook_endpoint",
    ],
    "authonomy_integrations.litestar": [
        "AuthonomyPlugin",
        "access_token",
        "end_sessions",
        "login_required",
        "require_groups",
        "require_policy",
        "require_scopes",
        "webhook_route",
    ],
    "authonomy_integrations.flask": [
        "Authonomy",
        "access_token",
        "current_user",
        "end_sessions",
        "login_required",
        "require_groups",
        "require_policy",
        "require_scopes",
    ],
    "authonomy_integrations.quart": [
        "Authonomy",
        "access_token",
        "current_user",
        "end_sessions",
        "login_required",
        "require_groups",
        "require_policy",
        "require_scopes",
    ],
    "authonomy_integrations.django": [
        "AuthonomyMiddleware",
        "aaccess_token",
        "access_token",
        "aend_sessions",
        "end_sessions",
        "login_required",
        "require_groups",
        "require_policy",
        "require_scopes",
        "webhook_view",
    ],
    "authonomy_integrations.django.rest_framework": [
        "AuthonomyAuthentication",
        "IsAuthonomyAuthenticated",
        "RequireGroups",
        "RequirePolicy",
        "RequireScopes",
    ],
    "authonomy_integrations.webhooks": [
        "WebhookEvent",
        "WebhookReceiver",
        "WebhookVerificationError",
        "WebhookVerifier",
        "sign",
    ],
    "authonomy_integrations.stores": [
        "ClosesClients",
        "CookieSessionStore",
        "CountsLoginStarts",
        "EndsRevokedSessions",
        "FollowsChanges",
        "ListsUserSessions",
        "MemorySessionStore",
        "RedisReplayStore",
        "RedisSessionStore",
        "ServesAsyncio",
        "SessionStore",
        "SharedSessionStore",
    ],
    "authonomy_integrations.sandbox": ["SANDBOX_MFA_CODE", "Sandbox"],
    "authonomy_integrations.testing": ["alogin_as", "login_as"],
    "authonomy_integrations.testing.store_contract": [
        "SessionStoreContract",
        "SharedSessionStoreContract",
    ],
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_internal(name: str) -> bool:
    return any(part.startswith("_") and part != "__main__" for part in name.split("."))


def _source_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def test_every_module_is_public_on_purpose_or_marked_internal() -> None:
    visible = {_module_name(path) for path in _source_files()}
    visible = {name for name in visible if not _is_internal(name)}
    assert visible == set(PUBLIC_MODULES) | set(CONVENTIONAL_MODULES)


def test_an_internal_module_is_recognised_by_its_name() -> None:
    assert _is_internal("authonomy_integrations._core.engine")
    assert _is_internal("authonomy_integrations.stores._memory")
    assert not _is_internal("authonomy_integrations.sandbox.__main__")
    assert not _is_internal("authonomy_integrations.django.rest_framework")


def test_no_two_classes_share_a_name() -> None:
    """``TokenSet``, ``Policy``, ``SigningKey``... each mean one thing in the whole kit."""
    defined: dict[str, list[str]] = defaultdict(list)
    for path in _source_files():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                defined[node.name].append(_module_name(path))
    clashes = {
        name: places
        for name, places in defined.items()
        if len(places) > 1 and name not in PER_ADAPTER_NAMES
    }
    assert clashes == {}


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_importable_and_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for member in exported:
        value = getattr(module, member)
        if isinstance(value, type | types.FunctionType):
            assert value.__doc__, f"{name}.{member} has no docstring"


def test_a_name_exported_twice_is_the_same_object() -> None:
    """Apart from the adapters' own guards and middleware, a name means one object."""
    owners: dict[str, tuple[str, object]] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for member in module.__all__:
            value = getattr(module, member)
            first, seen = owners.setdefault(member, (name, value))
            if member not in PER_ADAPTER_NAMES:
                assert value is seen, f"{name}.{member} is not {first}.{member}"


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


@pytest.mark.parametrize(("name", "members"), API_NAMES.items())
def test_names_promised_in_the_api_exist(name: str, members: list[str]) -> None:
    module = importlib.import_module(name)
    for member in members:
        assert member in module.__all__, member


#: The framework adapters export exactly what the API lists: nothing more to keep working.
ADAPTER_MODULES = [
    "authonomy_integrations.starlette",
    "authonomy_integrations.flask",
    "authonomy_integrations.quart",
    "authonomy_integrations.litestar",
]


@pytest.mark.parametrize("name", ADAPTER_MODULES)
def test_adapters_export_only_the_names_in_the_api(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) == set(API_NAMES[name])
    for member in module.__all__:
        assert getattr(module, member).__doc__, member


def test_every_error_is_importable_from_the_top_level() -> None:
    from authonomy_integrations import _errors

    for member in _errors.__all__:
        value = getattr(_errors, member)
        if isinstance(value, type) and issubclass(value, Exception):
            assert getattr(authonomy_integrations, member) is value


def test_webhook_errors_are_caught_from_the_module_that_raises_them() -> None:
    from authonomy_integrations.webhooks import WebhookVerificationError, WebhookVerifier

    assert WebhookVerificationError is authonomy_integrations.WebhookVerificationError
    verifier = WebhookVerifier("whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
    with pytest.raises(WebhookVerificationError):
        verifier.verify({"webhook-id": "msg_1"}, b"{}")


def test_the_api_answers_are_named_for_what_they_are_and_the_first_names_still_import() -> None:
    """``Authorization`` read as the HTTP header and ``Webhook`` as a delivery received."""
    from authonomy_integrations import (
        Authorization,
        AuthorizeResponse,
        Webhook,
        WebhookSubscription,
    )

    assert Authorization is AuthorizeResponse and Webhook is WebhookSubscription
    assert {"AuthorizeResponse", "WebhookSubscription"} <= set(authonomy_integrations.__all__)
    assert not {"Authorization", "Webhook"} & set(authonomy_integrations.__all__)
