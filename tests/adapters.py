"""The example app of each adapter, made from one configuration and served over real HTTP.

Every adapter has one entry in :data:`ADAPTERS`: the FastAPI example (Starlette adapter)
under uvicorn, the Flask example under waitress, and the Django example under waitress
(WSGI) and under uvicorn (ASGI). A scenario parametrized over it runs once per adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from authonomy_integrations import AuthonomyConfig
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.shared import with_signed_out_page

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
    # The Django example's settings add the signed-out page, as the other examples do.
    config = with_signed_out_page(config)
    return create_django_app(config, clock=clock, asgi=adapter == "django-asgi")


@contextmanager
def serve_example(
    adapter: str, config_for: ConfigFor, clock: Callable[[], float] | None = None
) -> Iterator[str]:
    """The example app of ``adapter`` for ``config_for(its_url)``, served; its URL."""
    with serve(lambda url: example_app(adapter, config_for(url), clock)) as url:
        yield url
