"""The example app of each adapter, made from one configuration and served over real HTTP.

Every adapter has one entry in :data:`ADAPTERS`: the FastAPI example (Starlette adapter)
under uvicorn, the Flask example under waitress, and the Django example under waitress
(WSGI) and under uvicorn (ASGI). A scenario parametrized over it runs once per adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.test.utils import override_settings
from django.utils.deprecation import MiddlewareMixin

from authonomy_integrations import AuthonomyConfig
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.shared import with_signed_out_page

from .django.helpers import MIDDLEWARE as DJANGO_MIDDLEWARE
from .django.helpers import WEBHOOK_SECRET
from .django.helpers import create_app as create_django_app
from .serving import serve

#: Every adapter, as the server it runs under sees it.
ADAPTERS = ["starlette", "flask", "django-wsgi", "django-asgi"]

#: Builds the app's configuration once its URL is known.
ConfigFor = Callable[[str], AuthonomyConfig]


def example_app(
    adapter: str, config: AuthonomyConfig, clock: Callable[[], float] | None = None
) -> Any:
    """The example app of ``adapter`` for ``config``; ``clock`` drives its kit."""
    if adapter == "starlette":
        return create_fastapi_app(config, clock=clock)
    if adapter == "flask":
        return create_flask_app(config, clock=clock)
    if adapter not in ("django-wsgi", "django-asgi"):
        raise ValueError(f"no adapter named {adapter!r}")
    return create_django_app(
        _django_example_config(config), clock=clock, asgi=adapter == "django-asgi"
    )


def _django_example_config(config: AuthonomyConfig) -> AuthonomyConfig:
    """``config`` as the Django example's settings make it: with the signed-out page.

    The example's URLconf, and with it its webhook receiver, is made once per process from
    the first configuration it sees, as a Django app's is: every Django example made here
    has the one test webhook secret (in place of the one a sandbox's ``config()``
    generates), so whichever comes first mounts the route the others are tested through.
    """
    return with_signed_out_page(config.replace(webhook_secret=WEBHOOK_SECRET))


@contextmanager
def serve_example(
    adapter: str, config_for: ConfigFor, clock: Callable[[], float] | None = None
) -> Iterator[str]:
    """The example app of ``adapter`` for ``config_for(its_url)``, served; its URL."""
    with serve(lambda url: example_app(adapter, config_for(url), clock)) as url:
        yield url


#: Test-only header a test app turns into the connection's client address, as a server
#: would from the socket, so one client can speak for several addresses.
CLIENT_ADDRESS = "x-test-client-address"
#: The :data:`CLIENT_ADDRESS` value for "the server reports no address" (a Unix socket).
NO_ADDRESS = "-"


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
