"""The same small app under each adapter, served over real HTTP, for the security tests.

Every test in this package takes an :class:`Adapter` and runs its scenario through it, so
an adapter added later joins every scenario by joining :data:`ADAPTERS`. The apps are
:mod:`tests.small_apps`; what they serve is listed there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial

from ..adapters import ConfigFor, serve_django
from ..serving import serve
from ..small_apps import Seen, django_urls, flask_app, starlette_app


@contextmanager
def _starlette(config_for: ConfigFor, clock: Callable[[], float], seen: Seen) -> Iterator[str]:
    with serve(lambda url: starlette_app(config_for(url), clock, seen)) as url:
        yield url


@contextmanager
def _flask(config_for: ConfigFor, clock: Callable[[], float], seen: Seen) -> Iterator[str]:
    with serve(lambda url: flask_app(config_for(url), clock, seen)) as url:
        yield url


@contextmanager
def _django(
    config_for: ConfigFor, clock: Callable[[], float], seen: Seen, *, asgi: bool
) -> Iterator[str]:
    urls = partial(django_urls, seen=seen)
    with serve_django(config_for, urls, clock, asgi=asgi) as (url, _):
        yield url


@dataclass(frozen=True)
class Adapter:
    """One framework adapter: serves the test app over real HTTP and yields its URL."""

    name: str
    _serve: Callable[[ConfigFor, Callable[[], float], Seen], AbstractContextManager[str]]

    def serve(
        self, config_for: ConfigFor, clock: Callable[[], float], seen: Seen | None = None
    ) -> AbstractContextManager[str]:
        """Serve the app configured by ``config_for(base_url)``, on ``clock``."""
        return self._serve(config_for, clock, seen if seen is not None else [])

    def __str__(self) -> str:
        return self.name


ADAPTERS = [
    Adapter("starlette", _starlette),
    Adapter("flask", _flask),
    Adapter("django-wsgi", partial(_django, asgi=False)),  # waitress
    Adapter("django-asgi", partial(_django, asgi=True)),  # uvicorn
]
