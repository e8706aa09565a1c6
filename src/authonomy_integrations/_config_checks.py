"""The checks an :class:`~authonomy_integrations._config.AuthonomyConfig` passes at start-up.

Each raises :class:`ConfigurationError` naming the field (and, where one sets it, its
``AUTHONOMY_*`` variable), so a bad setting stops the app before its first request.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._config_env import NOT_FROM_ENV, secrets, split_list
from ._core.conditions import validate_conditions
from ._core.origins import PLACEHOLDER, origins_problem
from ._core.urls import url_problem
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._config import AuthonomyConfig

__all__ = [
    "CUSTOMER_ID_PATTERN",
    "ENVIRONMENTS",
    "check",
    "check_logins",
    "with_variable",
]

#: API base URL and issuer of each hosted environment.
ENVIRONMENTS: Mapping[str, tuple[str, str]] = {
    "production": ("https://api.authonomy.io/v1", "https://auth.authonomy.io"),
    "sandbox": ("https://api-sandbox.authonomy.io/v1", "https://auth-sandbox.authonomy.io"),
}

_MIN_SECRET_LENGTH = 32
#: What a customer id may look like (the same rule the login route applies to ``?customer=``).
CUSTOMER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_SUPPORTED_ALGORITHMS = frozenset({"RS256", "ES256"})

#: What browser logins need, and where to get it.
_LOGIN_SETTINGS = (
    ("api_key", "the API key of your Authonomy application"),
    ("app_url", "your app's public origin, e.g. http://127.0.0.1:8000"),
    (
        "session_secret",
        f"{_MIN_SECRET_LENGTH}+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    ),
)


def check(config: AuthonomyConfig) -> tuple[str, ...] | None:
    """Every start-up check of ``config`` but the login settings (see :func:`check_logins`).

    Returns ``allowed_customers`` as a tuple (``None``: any customer), which the frozen
    configuration keeps in place of the value it was given.
    """
    _environment(config)
    _urls(config)
    _secrets(config)
    _paths(config)
    _numbers(config)
    _policies(config)
    allowed = _allowed_customers(config)
    _on_event(config)
    _customer_resolver(config)
    return allowed


def check_logins(config: AuthonomyConfig) -> None:
    """Raise unless browser logins can work: ``api_key``, ``app_url``, ``session_secret``."""
    if config.login_path is None:
        return
    for name, fix in _LOGIN_SETTINGS:
        if not getattr(config, name):
            raise ConfigurationError(
                name,
                f"is required for browser logins ({fix}); an API-only app that "
                "accepts bearer tokens and serves no login pages sets login_path=None",
            )


def with_variable(exc: ConfigurationError, fields: Iterable[str]) -> ConfigurationError:
    """``exc`` naming the ``AUTHONOMY_*`` variable of its field too, when it has one."""
    if exc.variable is not None or exc.field not in set(fields) - NOT_FROM_ENV:
        return exc
    return ConfigurationError(exc.field, exc.reason, variable=f"AUTHONOMY_{exc.field.upper()}")


def _environment(config: AuthonomyConfig) -> None:
    if config.environment not in ENVIRONMENTS:
        raise ConfigurationError(
            "environment",
            f"unknown environment {config.environment!r}; use one of {sorted(ENVIRONMENTS)}",
        )
    if not config.audience:
        raise ConfigurationError(
            "audience", "is required: the application id tokens are issued for"
        )
    unknown = set(config.algorithms) - _SUPPORTED_ALGORITHMS
    if unknown or not config.algorithms:
        raise ConfigurationError(
            "algorithms", f"must be a non-empty subset of {sorted(_SUPPORTED_ALGORITHMS)}"
        )


def _url(field_name: str, url: str) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise ConfigurationError(field_name, problem)


def _urls(config: AuthonomyConfig) -> None:
    _url("api_base_url", config.resolved_api_base_url)
    _url("issuer", config.resolved_issuer)
    _url("jwks_url", config.resolved_jwks_url)
    if config.app_url is not None:
        _app_url(config.app_url, config.origins)


def _app_url(value: object, origins: tuple[str, ...]) -> None:
    """One origin, or several of which one may hold ``{customer}`` (see ``_core.origins``)."""
    if isinstance(value, str) and "," not in value and PLACEHOLDER not in value:
        _url("app_url", value)  # one origin: the message as it always was
        if urlsplit(value).path not in ("", "/"):
            raise ConfigurationError(
                "app_url",
                "must be an origin without a path; an app under a URL prefix is given "
                "it by its server: ASGI root_path (uvicorn --root-path), WSGI "
                "SCRIPT_NAME, Django FORCE_SCRIPT_NAME",
            )
        return
    problem = origins_problem(origins)
    if problem is not None:
        raise ConfigurationError("app_url", problem)


def _secrets(config: AuthonomyConfig) -> None:
    if config.session_secret is not None:
        session_secrets = secrets(config.session_secret)
        if not session_secrets:
            raise ConfigurationError("session_secret", "must not be empty")
        if any(len(secret) < _MIN_SECRET_LENGTH for secret in session_secrets):
            raise ConfigurationError(
                "session_secret", f"each secret needs at least {_MIN_SECRET_LENGTH} characters"
            )
    if config.webhook_secret is not None:
        webhook_secrets = secrets(config.webhook_secret)
        if not webhook_secrets:
            raise ConfigurationError("webhook_secret", "must not be empty")
        # Imported here: the webhooks package imports the configuration.
        from .webhooks._signature import decode_secret

        for secret in webhook_secrets:
            decode_secret(secret)  # a whsec_ secret whose rest is not base64 raises


def _paths(config: AuthonomyConfig) -> None:
    for name in ("login_path", "callback_path", "logout_path", "sessions_path", "webhook_path"):
        value = getattr(config, name)
        if value is None and name == "login_path":
            continue
        if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
            raise ConfigurationError(name, f"must be an absolute path, got {value!r}")


def _numbers(config: AuthonomyConfig) -> None:
    for name in (
        "session_idle_timeout",
        "session_max_age",
        "login_timeout",
        "http_timeout",
        "login_rate_window",
    ):
        if getattr(config, name) <= 0:
            raise ConfigurationError(name, "must be positive")
    for name in ("refresh_margin", "leeway", "max_retries", "login_rate_limit"):
        if getattr(config, name) < 0:
            raise ConfigurationError(name, "must not be negative")
    if config.token_cache_size < 1:
        raise ConfigurationError("token_cache_size", "must be at least 1")
    if config.max_token_bytes < 256:
        raise ConfigurationError("max_token_bytes", "must be at least 256")


def _policies(config: AuthonomyConfig) -> None:
    if not isinstance(config.policies, Mapping):
        raise ConfigurationError("policies", "must map policy names to conditions")
    for name, conditions in config.policies.items():
        validate_conditions(conditions, field=f"policies[{name!r}]")


def _allowed_customers(config: AuthonomyConfig) -> tuple[str, ...] | None:
    customer_id = config.customer_id
    if customer_id is not None and not CUSTOMER_ID_PATTERN.fullmatch(customer_id):
        raise ConfigurationError("customer_id", f"is not a valid customer id: {customer_id!r}")
    if config.allowed_customers is None:
        return None
    value = config.allowed_customers
    allowed = tuple(split_list(value) if isinstance(value, str) else value)
    if not allowed:
        raise ConfigurationError(
            "allowed_customers", "must list at least one customer id (None allows any)"
        )
    for customer in allowed:
        if not isinstance(customer, str) or not CUSTOMER_ID_PATTERN.fullmatch(customer):
            raise ConfigurationError(
                "allowed_customers", f"{customer!r} is not a valid customer id"
            )
    if customer_id is not None and customer_id not in allowed:
        raise ConfigurationError(
            "allowed_customers", f"does not list the default customer_id {customer_id!r}"
        )
    return allowed


def _on_event(config: AuthonomyConfig) -> None:
    if config.on_event is not None and not callable(config.on_event):
        raise ConfigurationError("on_event", "must be a callable taking an AuthEvent")
    if _is_async(config.on_event):
        # Called without awaiting: every event would be dropped without a word.
        raise ConfigurationError(
            "on_event",
            "must be a plain function, not async: it is called, never awaited; hand "
            "slow work to a queue or a task from a plain function",
        )


def _customer_resolver(config: AuthonomyConfig) -> None:
    resolver = config.customer_resolver
    if resolver is not None and not callable(resolver):
        raise ConfigurationError(
            "customer_resolver", "must be a callable taking the request, returning a customer id"
        )
    if _is_async(resolver):
        # Called without awaiting: its coroutine would reach the login as a customer id.
        raise ConfigurationError(
            "customer_resolver",
            "must be a plain function, not async: it is called with the request, never "
            "awaited, and returns the customer id (or None)",
        )


def _is_async(hook: Any) -> bool:
    """Whether calling ``hook`` makes a coroutine: an ``async def``, or an object whose
    ``__call__`` is one."""
    return inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(
        getattr(hook, "__call__", None)  # noqa: B004 -- the method is inspected, not called
    )
