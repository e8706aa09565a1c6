"""The one registry of framework adapters that every suite running a scenario through each
adapter is parametrised over (security, abuse, observability, live, browser, demos,
repeat callers, fuzzing).

An adapter is one :class:`Adapter` entry in :data:`ADAPTERS`: how to build its example
app, its small test app (the routes of :mod:`tests.small_apps`) and an app with one
webhook route; whether those are ASGI (served under uvicorn) or WSGI (waitress); how to
reach the kit's runtime inside one; how a test calls one in this process (its test
client, if the framework's can); and its demo's command line. A new adapter joins every
suite with its entry here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any, Literal

import httpx
from django.conf import settings
from django.http import HttpRequest
from django.test.utils import override_settings
from django.urls import path
from django.utils.deprecation import MiddlewareMixin
from flask import Flask
from litestar import Litestar
from litestar.testing import TestClient as LitestarTestClient
from quart import Quart
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.django import webhook_view
from authonomy_integrations.flask._webhooks import make_webhook_view
from authonomy_integrations.litestar import AuthonomyPlugin, webhook_route
from authonomy_integrations.quart._webhooks import make_webhook_view as quart_webhook_view
from authonomy_integrations.starlette import webhook_endpoint
from authonomy_integrations.webhooks import WebhookReceiver
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.litestar_app import create_app as create_litestar_app
from examples.quart_app.app import create_app as create_quart_app
from examples.shared import with_signed_out_page

from .django.helpers import MIDDLEWARE as DJANGO_MIDDLEWARE
from .django.helpers import WEBHOOK_SECRET, runtime_of
from .django.helpers import create_app as create_django_app
from .serving import serve
from .small_apps import (
    CLIENT_ADDRESS,
    NO_ADDRESS,
    Seen,
    django_urls,
    flask_app,
    litestar_app,
    quart_app,
    starlette_app,
)

__all__ = [
    "ADAPTERS",
    "ADAPTER_NAMES",
    "CLIENT_ADDRESS",
    "NO_ADDRESS",
    "WEBHOOK_SECRET",
    "Adapter",
    "ConfigFor",
    "adapter_named",
    "example_app",
    "post_body",
    "serve_example",
    "under_prefix",
]

#: Builds the app's configuration once its URL is known.
ConfigFor = Callable[[str], AuthonomyConfig]
#: The clock the kit reads (``None``: the real time).
Clock = Callable[[], float] | None


@dataclass(frozen=True)
class Adapter:
    """One framework adapter as the suites see it."""

    name: str
    #: ``"asgi"`` apps are served under uvicorn, ``"wsgi"`` apps under waitress.
    interface: Literal["asgi", "wsgi"]
    #: The example app for a configuration, on a clock.
    example: Callable[[AuthonomyConfig, Clock], Any]
    #: The small test app (:mod:`tests.small_apps`) for a configuration, on a clock,
    #: its webhook events appended to the list given (or passed to the handler given).
    small_app: Callable[[AuthonomyConfig, Clock, Seen], Any]
    #: An app with one route: the receiver given, at the path given (no middleware
    #: where the framework needs none; Django's serves no configuration of its own).
    webhook_app: Callable[[WebhookReceiver, str], Any]
    #: The kit's runtime inside an app this entry built.
    runtime: Callable[[Any], Any]
    #: The framework's test client of an app this entry built, calling it in this
    #: process and following no redirect; ``None``: the app is called over real HTTP.
    test_client: Callable[[Any], AbstractContextManager[Any]] | None
    #: ``python -m`` arguments that start the example's demo.
    demo: tuple[str, ...]

    def __str__(self) -> str:
        return self.name

    def serve(
        self, config_for: ConfigFor, clock: Callable[[], float], seen: Seen | None = None
    ) -> AbstractContextManager[str]:
        """Serve the small test app configured by ``config_for(base_url)`` on ``clock``
        over real HTTP; yields its URL."""
        events = seen if seen is not None else []
        return self.served(lambda url: self.small_app(config_for(url), clock, events))

    def served(self, make_app: Callable[[str], Any]) -> AbstractContextManager[str]:
        """Serve ``make_app(its_url)`` under this adapter's server; yields its URL."""
        return serve(make_app, asgi=self.interface == "asgi")

    def serve_under(
        self,
        prefix: str,
        config_for: ConfigFor,
        clock: Callable[[], float],
        seen: Seen | None = None,
    ) -> AbstractContextManager[str]:
        """:meth:`serve` with the small app under the URL prefix ``prefix`` (see
        :func:`under_prefix`); yields the server's URL, without the prefix."""
        events = seen if seen is not None else []

        def make(url: str) -> Any:
            app = self.small_app(config_for(url), clock, events)
            return under_prefix(app, prefix, self.interface)

        return self.served(make)

    @contextmanager
    def calling(
        self, config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None
    ) -> Iterator[tuple[Any, Any]]:
        """The small test app for ``config`` and a client of it: the framework's test
        client, else an ``httpx.Client`` on the app served over real HTTP (its
        ``app_url`` is then where it is served, as in production)."""
        events = seen if seen is not None else []

        def make(url: str | None) -> Any:
            served = config if url is None else config.replace(app_url=url)
            return self.small_app(served, clock, events)

        with self.calling_app(make) as called:
            yield called

    @contextmanager
    def calling_app(self, make_app: Callable[[str | None], Any]) -> Iterator[tuple[Any, Any]]:
        """``make_app(None)`` called in this process by the framework's test client, or
        ``make_app(its_url)`` served over real HTTP and called with an ``httpx.Client``;
        yields the client and the app."""
        if self.test_client is not None:
            app = make_app(None)
            with self.test_client(app) as client:
                yield client, app
            return
        made: list[Any] = []

        def make(url: str) -> Any:
            made.append(make_app(url))
            return made[0]

        with self.served(make) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client, made[0]


class _ClientAddress:
    """Sets ``scope["client"]`` from :data:`CLIENT_ADDRESS`, as a server would from the
    socket, so one test client can speak for several addresses."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", ()):
            if name == CLIENT_ADDRESS.encode():
                client = None if value.decode() == NO_ADDRESS else (value.decode(), 50000)
                scope = {**scope, "client": client}
        await self.app(scope, receive, send)


@contextmanager
def _starlette_client(app: Any) -> Iterator[Any]:
    # Inside ``with``, so the app's event loop lives as long as the client; on the app's
    # own origin, as a browser on it would be.
    runtime = getattr(app, "runtime", None)  # none in an app with a webhook route only
    app_url = runtime.config.app_url if runtime is not None else None
    base_url = app_url if isinstance(app_url, str) else "http://testserver"
    with TestClient(_ClientAddress(app), base_url=base_url, follow_redirects=False) as client:
        yield client


@contextmanager
def _flask_client(app: Any) -> Iterator[Any]:
    try:
        yield app.test_client()
    finally:
        runtime = app.extensions.get("authonomy")
        if runtime is not None:
            runtime.close()


def _starlette_webhook_app(receiver: WebhookReceiver, path: str) -> Any:
    return Starlette(routes=[Route(path, webhook_endpoint(receiver), methods=["POST"])])


def _flask_webhook_app(receiver: WebhookReceiver, path: str) -> Any:
    app = Flask(__name__)
    app.add_url_rule(path, view_func=make_webhook_view(receiver), methods=["POST"])
    return app


def _quart_webhook_app(receiver: WebhookReceiver, path: str) -> Any:
    app = Quart(__name__)
    app.add_url_rule(path, view_func=quart_webhook_view(receiver), methods=["POST"])
    return app


#: A Django app's middleware needs a configuration; a webhook route uses none of it.
_WEBHOOK_ONLY = AuthonomyConfig(
    audience="app_webhook_only",
    environment="sandbox",
    api_base_url="http://127.0.0.1:9/v1",
    issuer="http://127.0.0.1:9",
    login_path=None,
)


def _django_webhook_app(receiver: WebhookReceiver, route: str, *, asgi: bool) -> Any:
    urls = ModuleType("webhook_test_urls")
    urls.urlpatterns = [path(route.lstrip("/"), webhook_view(receiver))]  # type: ignore[attr-defined]
    return django_test_app(_WEBHOOK_ONLY, urls, None, asgi=asgi)


def _django_example(config: AuthonomyConfig, clock: Clock, *, asgi: bool) -> Any:
    return create_django_app(_django_example_config(config), clock=clock, asgi=asgi)


def _django_example_config(config: AuthonomyConfig) -> AuthonomyConfig:
    """``config`` as the Django example's settings make it: with the signed-out page.

    The example's URLconf, and with it its webhook receiver, is made once per process from
    the first configuration it sees, as a Django app's is: every Django example made here
    has the one test webhook secret (in place of the one a sandbox's ``config()``
    generates), so whichever comes first mounts the route the others are tested through.
    """
    return with_signed_out_page(config.replace(webhook_secret=WEBHOOK_SECRET))


def _django_small_app(config: AuthonomyConfig, clock: Clock, seen: Seen, *, asgi: bool) -> Any:
    return django_test_app(config, django_urls(config, seen), clock, asgi=asgi)


def _starlette_small_app(config: AuthonomyConfig, clock: Clock, seen: Seen) -> Any:
    return starlette_app(config, clock, seen)


def _flask_small_app(config: AuthonomyConfig, clock: Clock, seen: Seen) -> Any:
    return flask_app(config, clock, seen)


def _fastapi_example(config: AuthonomyConfig, clock: Clock) -> Any:
    return create_fastapi_app(config, clock=clock)


def _flask_example(config: AuthonomyConfig, clock: Clock) -> Any:
    return create_flask_app(config, clock=clock)


#: Every adapter, one entry each: the FastAPI example (Starlette adapter) under uvicorn,
#: Flask under waitress, Django under waitress (WSGI) and under uvicorn (ASGI), Quart
#: under uvicorn.
ADAPTERS = [
    Adapter(
        name="starlette",
        interface="asgi",
        example=_fastapi_example,
        small_app=_starlette_small_app,
        webhook_app=_starlette_webhook_app,
        runtime=lambda app: app.runtime,
        test_client=_starlette_client,
        demo=("examples.fastapi_app",),
    ),
    Adapter(
        name="flask",
        interface="wsgi",
        example=_flask_example,
        small_app=_flask_small_app,
        webhook_app=_flask_webhook_app,
        runtime=lambda app: app.extensions["authonomy"],
        test_client=_flask_client,
        demo=("examples.flask_app",),
    ),
    Adapter(
        name="django-wsgi",
        interface="wsgi",
        example=partial(_django_example, asgi=False),
        small_app=partial(_django_small_app, asgi=False),
        webhook_app=partial(_django_webhook_app, asgi=False),
        runtime=runtime_of,
        test_client=None,
        demo=("examples.django_app",),
    ),
    Adapter(
        name="django-asgi",
        interface="asgi",
        example=partial(_django_example, asgi=True),
        small_app=partial(_django_small_app, asgi=True),
        webhook_app=partial(_django_webhook_app, asgi=True),
        runtime=runtime_of,
        test_client=None,
        demo=("examples.django_app", "--asgi"),
    ),
    Adapter(
        name="quart",
        interface="asgi",
        example=lambda config, clock: create_quart_app(config, clock=clock),
        small_app=quart_app,
        webhook_app=_quart_webhook_app,
        runtime=lambda app: app.extensions["authonomy"],
        # Quart's test client is async; the suites' clients are blocking: real HTTP.
        test_client=None,
        demo=("examples.quart_app",),
    ),
]


def _litestar_runtime(app: Litestar) -> Any:
    return app.plugins.get(AuthonomyPlugin).runtime


@contextmanager
def _litestar_client(app: Litestar) -> Iterator[Any]:
    # As Starlette's: the app's loop lives as long as the client, on the app's own origin.
    plugin = next((p for p in app.plugins.init if isinstance(p, AuthonomyPlugin)), None)
    app_url = plugin.config.app_url if plugin is not None else None
    base_url = app_url if isinstance(app_url, str) else "http://testserver.local"
    with warnings.catch_warnings():
        # Litestar warns of a host without a dot (``localhost``); the sandbox's app URLs
        # are on localhost, and its cookies work there all the same.
        warnings.filterwarnings("ignore", "The base_url", UserWarning)
        client = LitestarTestClient(_ClientAddress(app), base_url=base_url)
    with client:
        client.follow_redirects = False
        yield client


def _litestar_webhook_app(receiver: WebhookReceiver, path: str) -> Any:
    # No logging configuration of Litestar's: it would change the process's root logger.
    return Litestar([webhook_route(receiver, path=path)], logging_config=None)


ADAPTERS.append(
    Adapter(
        name="litestar",
        interface="asgi",
        example=lambda config, clock: create_litestar_app(config, clock=clock),
        small_app=litestar_app,
        webhook_app=_litestar_webhook_app,
        runtime=_litestar_runtime,
        test_client=_litestar_client,
        demo=("examples.litestar_app",),
    )
)


#: The name of every adapter of the registry, for suites parametrised by name.
ADAPTER_NAMES = [entry.name for entry in ADAPTERS]


def post_body(client: Any, path: str, body: bytes, headers: dict[str, str]) -> Any:
    """POST raw ``body`` with any of the registry's clients (httpx-based or Werkzeug's)."""
    if isinstance(client, httpx.Client):
        return client.post(path, content=body, headers=headers)
    return client.post(path, data=body, headers=headers)


def adapter_named(name: str) -> Adapter:
    """The registry's entry called ``name``."""
    for adapter in ADAPTERS:
        if adapter.name == name:
            return adapter
    raise ValueError(f"no adapter named {name!r}")


def example_app(
    adapter: str | Adapter, config: AuthonomyConfig, clock: Callable[[], float] | None = None
) -> Any:
    """The example app of ``adapter`` for ``config``; ``clock`` drives its kit."""
    entry = adapter if isinstance(adapter, Adapter) else adapter_named(adapter)
    return entry.example(config, clock)


@contextmanager
def serve_example(
    adapter: str | Adapter, config_for: ConfigFor, clock: Callable[[], float] | None = None
) -> Iterator[str]:
    """The example app of ``adapter`` for ``config_for(its_url)``, served; its URL."""
    entry = adapter if isinstance(adapter, Adapter) else adapter_named(adapter)
    with entry.served(lambda url: entry.example(config_for(url), clock)) as url:
        yield url


class OwnUrls(MiddlewareMixin):
    """First in a Django test app's middleware: routes its requests by the URLconf the
    app was made with, and takes the client's address from :data:`CLIENT_ADDRESS`.

    Django's ``ROOT_URLCONF`` is one per process; apps served side by side here each have
    their own routes (and webhook receiver), so each sets ``request.urlconf`` instead.
    """

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        self.urlconf = settings.TEST_APP_URLCONF

    def process_request(self, request: HttpRequest) -> None:
        """Resolve against the app's URLconf; a test may speak for another address."""
        request.urlconf = self.urlconf
        address = request.headers.get(CLIENT_ADDRESS)
        if address:
            request.META["REMOTE_ADDR"] = "" if address == NO_ADDRESS else address


def django_test_app(
    config: AuthonomyConfig, urls: ModuleType, clock: Callable[[], float] | None, *, asgi: bool
) -> Any:
    """A Django app (WSGI, or ASGI with ``asgi``) that serves ``urls`` with the kit's
    middleware made from ``config``."""
    own_urls = f"{OwnUrls.__module__}.{OwnUrls.__qualname__}"
    # The settings are read while the middleware is made, then left as they were. Making
    # the app imports ROOT_URLCONF: this module, not the example's URLs, which would keep
    # this app's configuration for the Django tests that import them later.
    with override_settings(
        MIDDLEWARE=[own_urls, *DJANGO_MIDDLEWARE], ROOT_URLCONF=__name__, TEST_APP_URLCONF=urls
    ):
        return create_django_app(config, clock=clock, asgi=asgi)


@contextmanager
def serve_django(
    config_for: ConfigFor,
    urls: Callable[[AuthonomyConfig], ModuleType],
    clock: Callable[[], float] | None,
    *,
    asgi: bool,
) -> Iterator[tuple[str, Any]]:
    """A Django test app serving ``urls(config)`` under uvicorn (``asgi``) or waitress;
    its URL and handler."""
    made: list[Any] = []

    def make(url: str) -> Any:
        config = config_for(url)
        made.append(django_test_app(config, urls(config), clock, asgi=asgi))
        return made[0]

    with serve(make) as url:
        yield url, made[0]


def under_prefix(app: Any, prefix: str, interface: Literal["asgi", "wsgi"]) -> Any:
    """``app`` served under the URL prefix ``prefix`` (``/shop``), as behind a proxy that
    strips it: ASGI's ``root_path`` (the server's ``--root-path``, the full path kept in
    ``path``, as uvicorn gives it), WSGI's ``SCRIPT_NAME``. Paths outside it are 404."""
    return _AsgiPrefix(app, prefix) if interface == "asgi" else _WsgiPrefix(app, prefix)


def _outside(path: str, prefix: str) -> bool:
    return path != prefix and not path.startswith(prefix + "/")


class _AsgiPrefix:
    def __init__(self, app: Any, prefix: str) -> None:
        self.wrapped, self.prefix = app, prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            if _outside(scope["path"], self.prefix):
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            scope = {**scope, "root_path": self.prefix}
        await self.wrapped(scope, receive, send)


class _WsgiPrefix:
    def __init__(self, app: Any, prefix: str) -> None:
        self.wrapped, self.prefix = app, prefix

    def __call__(self, environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if _outside(path, self.prefix):
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
        environ["PATH_INFO"] = path[len(self.prefix) :]
        return self.wrapped(environ, start_response)
