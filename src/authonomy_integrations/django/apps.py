"""Optional app config: ``INSTALLED_APPS += ["authonomy_integrations.django"]``.

It adds checks to ``manage.py check`` (and to ``runserver``'s start): the configuration
is one the middleware accepts (browser logins included: a missing session secret is an
error), the middleware is installed, and it comes after Django's own
``AuthenticationMiddleware``, which would otherwise replace ``request.user``. The
middleware refuses that order at start-up too, with or without this app.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from .._errors import ConfigurationError
from ._middleware import AuthonomyMiddleware
from ._settings import configured, configured_clock, middleware_order_problem

__all__ = ["AuthonomyAppConfig", "check_settings"]

MIDDLEWARE_PATH = "authonomy_integrations.django.AuthonomyMiddleware"


def _configuration_problems() -> list[checks.CheckMessage]:
    try:
        configured().check_logins()
        configured_clock()
    except ConfigurationError as exc:
        return [
            checks.Error(
                f"Authonomy configuration: {exc}",
                hint="Set AUTHONOMY_CONFIG in settings, or the AUTHONOMY_* variables.",
                id="authonomy.E001",
            )
        ]
    return []


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The Authonomy checks: a configuration the middleware would accept (E001), the
    middleware present (W001) and after Django's ``AuthenticationMiddleware`` (E002)."""
    problems = _configuration_problems()
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    order = middleware_order_problem(AuthonomyMiddleware)
    if order is not None:
        hint = "Put AuthonomyMiddleware after AuthenticationMiddleware."
        problems.append(checks.Error(order, hint=hint, id="authonomy.E002"))
    elif MIDDLEWARE_PATH not in middleware:
        problems.append(
            checks.Warning(
                "AuthonomyMiddleware is not in MIDDLEWARE: no request is authenticated.",
                hint=f'Add "{MIDDLEWARE_PATH}" to MIDDLEWARE.',
                id="authonomy.W001",
            )
        )
    return problems


class AuthonomyAppConfig(AppConfig):
    """Registers the Authonomy system checks."""

    name = "authonomy_integrations.django"
    label = "authonomy"
    verbose_name = "Authonomy"

    def ready(self) -> None:
        """Register :func:`check_settings` with Django's check framework."""
        checks.register(check_settings)
