"""Helpers for the Django tests: settings, and the example app as a WSGI or ASGI handler
or under Django's test clients (``tests.serving`` serves a handler over real HTTP).

``create_app(config)`` mirrors the Flask and Starlette helpers: it returns the example's
WSGI (or, with ``asgi=True``, ASGI) application with the middleware built from ``config``.
Django reads ``AUTHONOMY_CONFIG`` when it creates the middleware, so each application
keeps the configuration it was made with, side by side with others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

import django
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import AsyncClient, Client
from django.test.utils import override_settings

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.django import AuthonomyMiddleware
from authonomy_integrations.sandbox import Sandbox
from examples.shared import with_signed_out_page

WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"

#: The example's middleware stack, as its settings list it.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authonomy_integrations.django.AuthonomyMiddleware",
]


def configure_django() -> None:
    """Settings for the whole test run: the example's, without ``django.contrib.auth``."""
    if settings.configured:
        return
    settings.configure(
        SECRET_KEY="tests-only-not-secret",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost", ".myapp.example"],
        ROOT_URLCONF="tests.django.urls",
        INSTALLED_APPS=["authonomy_integrations.django", "rest_framework"],
        MIDDLEWARE=MIDDLEWARE,
        DATABASES={},
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        USE_TZ=True,
        LOGGING_CONFIG=None,
        REST_FRAMEWORK={
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "authonomy_integrations.django.rest_framework.AuthonomyAuthentication"
            ],
            "DEFAULT_PERMISSION_CLASSES": [],
        },
    )
    django.setup()


configure_django()


def app_config(sb: Sandbox, app_url: str = "http://localhost", **overrides: Any) -> AuthonomyConfig:
    """A configuration against ``sb`` for an app at ``app_url``."""
    values: dict[str, Any] = {"app_url": app_url, "webhook_secret": WEBHOOK_SECRET}
    return sb.config(**{**values, **overrides})


def example_config(sb: Sandbox, app_url: str = "http://localhost") -> AuthonomyConfig:
    """The configuration the example's settings make for ``sb``: after sign-out the
    browser lands on the demos' confirmation page."""
    return with_signed_out_page(app_config(sb, app_url))


@contextmanager
def authonomy_settings(
    config: AuthonomyConfig, clock: Callable[[], float] | None
) -> Iterator[None]:
    """``AUTHONOMY_CONFIG`` and ``AUTHONOMY_CLOCK`` while middleware is being created."""
    with override_settings(AUTHONOMY_CONFIG=config, AUTHONOMY_CLOCK=clock):
        # The example's URLs read the settings once, at import, as a Django app does.
        import_module(settings.ROOT_URLCONF)
        yield


def create_app(
    config: AuthonomyConfig, *, clock: Callable[[], float] | None = None, asgi: bool = False
) -> WSGIHandler | ASGIHandler:
    """The example as a WSGI (or ASGI) application with its middleware made from ``config``."""
    with authonomy_settings(config, clock):
        return ASGIHandler() if asgi else WSGIHandler()


def middleware_of(handler: Any) -> AuthonomyMiddleware:
    """The ``AuthonomyMiddleware`` inside a handler's middleware chain."""
    link: Any = handler._middleware_chain
    for _ in range(50):
        if isinstance(link, AuthonomyMiddleware):
            return link
        cells = getattr(link, "__closure__", None)
        if cells:  # Django's exception-to-response wrapper around the next middleware
            link = next(c.cell_contents for c in cells if callable(c.cell_contents))
        else:
            link = link.get_response
    raise AssertionError("no AuthonomyMiddleware in the chain")


def runtime_of(handler: Any) -> AuthonomySync | AuthonomyAsync:
    """The runtime the app's middleware drives."""
    return middleware_of(handler).runtime


def django_client(
    config: AuthonomyConfig,
    clock: Callable[[], float] | None = None,
    *,
    client_class: type[Client] = Client,
    **kwargs: Any,
) -> Client:
    """Django's test ``Client`` (or a subclass) whose middleware is made from ``config``."""
    client = client_class(**kwargs)
    with authonomy_settings(config, clock):
        client.handler.load_middleware()
    return client


def django_async_client(
    config: AuthonomyConfig, clock: Callable[[], float] | None = None, **kwargs: Any
) -> AsyncClient:
    """Django's ``AsyncClient`` whose (async) middleware is made from ``config``."""
    client = AsyncClient(**kwargs)
    with authonomy_settings(config, clock):
        client.handler.load_middleware(is_async=True)
    return client


def close(handler: Any) -> None:
    """Close the HTTP client of a sync app's runtime."""
    runtime = runtime_of(handler)
    assert isinstance(runtime, AuthonomySync)
    runtime.close()
