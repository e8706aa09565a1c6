"""The public names: sorted ``__all__``, each importable, each documented."""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC_MODULES = [
    "authonomy_integrations",
    "authonomy_integrations.errors",
    "authonomy_integrations.starlette",
    "authonomy_integrations.flask",
    "authonomy_integrations.django",
    "authonomy_integrations.django.rest_framework",
    "authonomy_integrations.webhooks",
    "authonomy_integrations.stores",
    "authonomy_integrations.sandbox",
    "authonomy_integrations.testing",
]

API_NAMES = {
    "authonomy_integrations": ["AuthonomyConfig", "AuthonomyClient", "AsyncAuthonomyClient"],
    "authonomy_integrations.starlette": [
        "AuthonomyMiddleware",
        "current_user",
        "login_required",
        "require_groups",
        "require_policy",
        "webhook_endpoint",
    ],
    "authonomy_integrations.flask": [
        "Authonomy",
        "current_user",
        "login_required",
        "require_groups",
        "require_policy",
    ],
    "authonomy_integrations.django": [
        "AuthonomyMiddleware",
        "login_required",
        "require_groups",
        "require_policy",
        "webhook_view",
    ],
    "authonomy_integrations.django.rest_framework": [
        "AuthonomyAuthentication",
        "IsAuthonomyAuthenticated",
        "RequireGroups",
        "RequirePolicy",
    ],
    "authonomy_integrations.webhooks": [
        "WebhookEvent",
        "WebhookReceiver",
        "WebhookVerificationError",
        "WebhookVerifier",
        "sign",
    ],
}


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for member in exported:
        value = getattr(module, member)
        if isinstance(value, type | types.FunctionType):
            assert value.__doc__, f"{name}.{member} has no docstring"


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
ADAPTER_MODULES = ["authonomy_integrations.starlette", "authonomy_integrations.flask"]


@pytest.mark.parametrize("name", ADAPTER_MODULES)
def test_adapters_export_only_the_names_in_the_api(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) == set(API_NAMES[name])
    for member in module.__all__:
        assert getattr(module, member).__doc__, member


def test_webhook_errors_are_caught_from_the_module_that_raises_them() -> None:
    from authonomy_integrations import errors
    from authonomy_integrations.webhooks import WebhookVerificationError, WebhookVerifier

    assert WebhookVerificationError is errors.WebhookVerificationError
    verifier = WebhookVerifier("whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
    with pytest.raises(WebhookVerificationError):
        verifier.verify({"webhook-id": "msg_1"}, b"{}")
