"""The adapter's settings: ``AUTHONOMY_CONFIG`` (and ``AUTHONOMY_CLOCK`` for tests)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .._config import AuthonomyConfig
from .._errors import ConfigurationError

__all__ = ["AuthonomyImproperlyConfigured", "configured", "configured_clock", "improperly"]


class AuthonomyImproperlyConfigured(ConfigurationError, ImproperlyConfigured):
    """A bad Authonomy configuration, as Django's ``ImproperlyConfigured``.

    Both names catch it: Django's (start-up and ``manage.py check``) and the kit's.
    """


def configured() -> AuthonomyConfig:
    """``settings.AUTHONOMY_CONFIG``, else ``AuthonomyConfig.from_env()``.

    Raises :class:`AuthonomyImproperlyConfigured`, naming the field, when it is invalid.
    """
    config = getattr(settings, "AUTHONOMY_CONFIG", None)
    if config is None:
        try:
            return AuthonomyConfig.from_env()
        except ConfigurationError as exc:
            raise improperly(exc) from exc
    if not isinstance(config, AuthonomyConfig):
        raise AuthonomyImproperlyConfigured(
            "AUTHONOMY_CONFIG",
            f"must be an AuthonomyConfig, not {type(config).__name__}; "
            "for example AUTHONOMY_CONFIG = AuthonomyConfig.from_env()",
        )
    return config


def configured_clock() -> Callable[[], float]:
    """``settings.AUTHONOMY_CLOCK`` (Unix seconds; tests move time with it), else ``time.time``."""
    clock = getattr(settings, "AUTHONOMY_CLOCK", None)
    if clock is None:
        return time.time
    if not callable(clock):
        raise AuthonomyImproperlyConfigured(
            "AUTHONOMY_CLOCK", "must be a callable returning seconds"
        )
    return clock  # type: ignore[no-any-return]


def improperly(exc: ConfigurationError) -> AuthonomyImproperlyConfigured:
    """The kit's configuration error as the one Django reports at start-up: the same
    field, ``AUTHONOMY_*`` variable and fix."""
    return AuthonomyImproperlyConfigured(exc.field, exc.reason, variable=exc.variable)
