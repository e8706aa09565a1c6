"""``AuthonomyConfig``: bad settings fail at start-up with the field's name."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig, ConfigurationError

GOOD: dict[str, Any] = {
    "api_key": "ak_test",
    "environment": "sandbox",
    "audience": "app_123",
    "app_url": "https://myapp.example",
    "session_secret": "x" * 32,
}


def config(**changes: Any) -> AuthonomyConfig:
    return AuthonomyConfig(**{**GOOD, **changes})


def test_environment_picks_the_hosted_urls() -> None:
    sandbox = config()
    assert sandbox.resolved_api_base_url == "https://api-sandbox.authonomy.io/v1"
    assert sandbox.resolved_issuer == "https://auth-sandbox.authonomy.io"
    assert sandbox.resolved_jwks_url == "https://auth-sandbox.authonomy.io/.well-known/jwks.json"
    production = config(environment="production")
    assert production.resolved_issuer == "https://auth.authonomy.io"


def test_every_url_can_be_overridden_for_a_local_sandbox() -> None:
    local = config(api_base_url="http://127.0.0.1:8400/v1/", issuer="http://127.0.0.1:8400")
    assert local.resolved_api_base_url == "http://127.0.0.1:8400/v1"
    assert local.resolved_jwks_url == "http://127.0.0.1:8400/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"audience": ""}, "audience"),
        ({"environment": "staging"}, "environment"),
        ({"issuer": "http://auth.example.com"}, "issuer"),
        ({"api_base_url": "ftp://api.example.com"}, "api_base_url"),
        ({"app_url": "http://myapp.example"}, "app_url"),
        ({"app_url": "https://myapp.example/base"}, "app_url"),
        ({"session_secret": ""}, "session_secret"),
        ({"session_secret": []}, "session_secret"),
        ({"session_secret": "short"}, "session_secret"),
        ({"session_secret": ["x" * 32, "short"]}, "session_secret"),
        ({"webhook_secret": ""}, "webhook_secret"),
        ({"login_path": "auth/login"}, "login_path"),
        ({"callback_path": "//evil.example/cb"}, "callback_path"),
        ({"algorithms": ("HS256",)}, "algorithms"),
        ({"algorithms": ()}, "algorithms"),
        ({"leeway": -1}, "leeway"),
        ({"http_timeout": 0}, "http_timeout"),
        ({"token_cache_size": 0}, "token_cache_size"),
        ({"policies": {"admin": {"mfa_requried": True}}}, "policies['admin'].mfa_requried"),
        (
            {"policies": {"office": {"ip_allowlist": ["10.0.0.0/33"]}}},
            "policies['office'].ip_allowlist",
        ),
    ],
)
def test_bad_setting_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        config(**changes)
    assert raised.value.field == field
    variable = None if "[" in field else f"AUTHONOMY_{field.upper()}"
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{field} ({variable}):" if variable else f"{field}:")


def test_http_is_allowed_on_loopback_only() -> None:
    local = config(app_url="http://127.0.0.1:8000", issuer="http://localhost:8400")
    assert not local.secure_cookies
    assert config().secure_cookies


def test_secret_lists_keep_their_order_for_rotation() -> None:
    rotated = config(session_secret=["n" * 32, "o" * 32], webhook_secret=["whsec_YWJj", "b"])
    assert rotated.session_secrets == ("n" * 32, "o" * 32)
    assert rotated.webhook_secrets == ("whsec_YWJj", "b")


def test_from_env_reads_authonomy_variables() -> None:
    environ = {
        "AUTHONOMY_API_KEY": "ak_env",
        "AUTHONOMY_ENVIRONMENT": "sandbox",
        "AUTHONOMY_AUDIENCE": "app_env",
        "AUTHONOMY_APP_URL": "https://app.example",
        "AUTHONOMY_SESSION_SECRET": f"{'a' * 32},{'b' * 32}",
        "AUTHONOMY_WEBHOOK_SECRET": "whsec_one",
        "AUTHONOMY_LEEWAY": "5",
        "AUTHONOMY_SCOPES": "openid email",
        "AUTHONOMY_COOKIE_SECURE": "false",
        "UNRELATED": "ignored",
    }
    loaded = AuthonomyConfig.from_env(environ, customer_id="acme-corp")
    assert loaded.api_key == "ak_env" and loaded.audience == "app_env"
    assert loaded.session_secrets == ("a" * 32, "b" * 32)
    assert loaded.webhook_secrets == ("whsec_one",)
    assert loaded.leeway == 5.0 and loaded.scopes == ("openid", "email")
    assert loaded.cookie_secure is False and loaded.customer_id == "acme-corp"


def test_from_env_rejects_a_number_that_is_not_one() -> None:
    with pytest.raises(ConfigurationError, match="leeway"):
        AuthonomyConfig.from_env(
            {**{f"AUTHONOMY_{k.upper()}": v for k, v in GOOD.items()}, "AUTHONOMY_LEEWAY": "soon"}
        )


def test_from_env_without_audience_fails_naming_it() -> None:
    with pytest.raises(ConfigurationError) as raised:
        AuthonomyConfig.from_env({"AUTHONOMY_API_KEY": "ak"})
    assert raised.value.field == "audience"


def test_from_env_with_no_variable_at_all_says_to_load_the_sandboxs() -> None:
    # The usual cause: a new terminal where the sandbox's .env was never loaded.
    with pytest.raises(ConfigurationError) as raised:
        AuthonomyConfig.from_env({"PATH": "/usr/bin"})
    message = str(raised.value)
    assert message.startswith("audience (AUTHONOMY_AUDIENCE): is required")
    assert "no AUTHONOMY_* variable is set at all" in message
    assert "set -a; . ./.env; set +a" in message


def test_from_env_with_some_variables_names_only_the_missing_one() -> None:
    with pytest.raises(ConfigurationError) as raised:
        AuthonomyConfig.from_env({"AUTHONOMY_API_KEY": "ak"})
    assert "no AUTHONOMY_* variable" not in str(raised.value)


def test_config_is_frozen_and_replace_validates_again() -> None:
    base = config()
    with pytest.raises(AttributeError):
        base.audience = "other"  # type: ignore[misc]
    with pytest.raises(ConfigurationError):
        base.replace(audience="")
    assert base.replace(customer_id="globex").customer_id == "globex"


def test_allowed_customers_from_env_is_a_comma_separated_list() -> None:
    env = {"AUTHONOMY_AUDIENCE": "app_123", "AUTHONOMY_ALLOWED_CUSTOMERS": "acme-corp, globex"}
    config = AuthonomyConfig.from_env(env)
    assert config.allowed_customers == ("acme-corp", "globex")
    assert config.accepts_customer("globex") and not config.accepts_customer("initech")
    assert AuthonomyConfig(audience="app_123").accepts_customer("initech")


@pytest.mark.parametrize(
    "changes",
    [
        {"allowed_customers": []},
        {"allowed_customers": ["acme corp"]},
        {"allowed_customers": ["globex"], "customer_id": "acme-corp"},
    ],
)
def test_bad_allowed_customers_fail_at_start_up(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        AuthonomyConfig(audience="app_123", **changes)
    assert raised.value.field == "allowed_customers"


def test_repr_never_shows_a_secret() -> None:
    secrets = {
        "api_key": "ak_sandbox_visible-key-1234",
        "session_secret": ["first-session-secret-0123456789abcdef", "s" * 40],
        "webhook_secret": "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
    }
    shown = repr(config(**secrets))
    assert "visible-key" not in shown
    assert "first-session-secret" not in shown and "s" * 40 not in shown
    assert "c2VjcmV0" not in shown
    assert "api_key='<hidden>'" in shown
    assert "audience=" in shown, "the rest of the configuration is still shown"
    assert str(config(**secrets)) == shown


@pytest.mark.parametrize(
    "app_url", ["https://myapp.example/shop", ["https://myapp.example/shop", "https://b.example"]]
)
def test_an_app_url_with_a_path_names_the_prefix_settings_to_use_instead(app_url: Any) -> None:
    with pytest.raises(ConfigurationError) as raised:
        config(app_url=app_url)
    message = str(raised.value)
    assert message.startswith("app_url (AUTHONOMY_APP_URL): must be an origin without a path")
    for setting in ("root_path", "--root-path", "SCRIPT_NAME", "FORCE_SCRIPT_NAME"):
        assert setting in message
