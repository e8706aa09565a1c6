"""The adapter's settings: ``AUTHONOMY_CONFIG`` (and ``AUTHONOMY_CLOCK`` for tests), and
where ``MIDDLEWARE`` lists the kit's middleware."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .._config import AuthonomyConfig
from .._errors import ConfigurationError

__all__ = [
    "AuthonomyImproperlyConfigured",
    "check_middleware_order",
    "configured",
    "configured_clock",
    "improperly",
    "middleware_order_problem",
]

_DJANGO_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


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


def _middleware_classes() -> list[type | None]:
    """The classes ``MIDDLEWARE`` names, in its order (``None`` where one cannot be imported:
    Django itself reports that)."""
    classes: list[type | None] = []
    for path in getattr(settings, "MIDDLEWARE", None) or []:
        try:
            found = import_string(path)
        except ImportError:
            found = None
        classes.append(found if isinstance(found, type) else None)
    return classes


def _is_django_auth(cls: type | None) -> bool:
    # Compared by name, so that checking never imports django.contrib.auth.
    names = (f"{base.__module__}.{base.__qualname__}" for base in getattr(cls, "__mro__", ()))
    return _DJANGO_AUTH_MIDDLEWARE in names


def middleware_order_problem(kit: type) -> str | None:
    """Why ``MIDDLEWARE`` breaks ``kit`` (the kit's middleware class), or ``None``.

    Django's ``AuthenticationMiddleware`` listed after the kit's runs later on each request
    and replaces ``request.user`` with Django's own user: the guards would still pass, and
    views would then read a user without the Authonomy attributes.
    """
    classes = _middleware_classes()
    ours = [i for i, cls in enumerate(classes) if cls is not None and issubclass(cls, kit)]
    if not ours:
        return None
    if any(_is_django_auth(cls) for cls in classes[ours[0] + 1 :]):
        return (
            f"{_DJANGO_AUTH_MIDDLEWARE} comes after AuthonomyMiddleware and would replace "
            "request.user with Django's own user; list AuthonomyMiddleware after it"
        )
    return None


def check_middleware_order(kit: type) -> None:
    """Raise :class:`AuthonomyImproperlyConfigured` when :func:`middleware_order_problem`
    finds one: at start-up, before a view meets the wrong user."""
    problem = middleware_order_problem(kit)
    if problem is not None:
        raise AuthonomyImproperlyConfigured("MIDDLEWARE", problem)
