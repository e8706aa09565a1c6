"""Optional app config: ``INSTALLED_APPS += ["authonomy_integrations.django"]``.

It adds checks to ``manage.py check`` (and to ``runserver``'s start): the configuration
is valid, the middleware is installed, and it comes after Django's own
``AuthenticationMiddleware``, which would otherwise replace ``request.user``.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from .._errors import ConfigurationError
from ._settings import configured, configured_clock

__all__ = ["AuthonomyAppConfig", "check_settings"]

MIDDLEWARE_PATH = "authonomy_integrations.django.AuthonomyMiddleware"
_DJANGO_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The Authonomy checks: configuration (E001), middleware present (W001) and order (W002)."""
    problems: list[checks.CheckMessage] = []
    try:
        configured()
        configured_clock()
    except ConfigurationError as exc:
        problems.append(
            checks.Error(
                f"Authonomy configuration: {exc}",
                hint="Set AUTHONOMY_CONFIG in settings, or the AUTHONOMY_* variables.",
                id="authonomy.E001",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH not in middleware:
        problems.append(
            checks.Warning(
                "AuthonomyMiddleware is not in MIDDLEWARE: no request is authenticated.",
                hint=f'Add "{MIDDLEWARE_PATH}" to MIDDLEWARE.',
                id="authonomy.W001",
            )
        )
    elif _DJANGO_AUTH_MIDDLEWARE in middleware and middleware.index(
        _DJANGO_AUTH_MIDDLEWARE
    ) > middleware.index(MIDDLEWARE_PATH):
        problems.append(
            checks.Warning(
                "AuthenticationMiddleware comes after AuthonomyMiddleware and replaces "
                "request.user with Django's own user.",
                hint="Put AuthonomyMiddleware after AuthenticationMiddleware.",
                id="authonomy.W002",
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
