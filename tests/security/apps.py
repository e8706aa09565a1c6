"""The same small app under each adapter, served over real HTTP, for the security tests.

Every test in this package takes an :class:`Adapter` and runs its scenario through it, so
an adapter added later joins every scenario by joining :data:`ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from flask import Flask, jsonify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.django import require_policy as django_require_policy
from authonomy_integrations.django import webhook_view
from authonomy_integrations.flask import Authonomy, current_user
from authonomy_integrations.flask import require_policy as flask_require_policy
from authonomy_integrations.starlette import AuthonomyMiddleware, webhook_endpoint
from authonomy_integrations.starlette import require_policy as starlette_require_policy
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from ..adapters import serve_django
from ..serving import serve

#: Builds the app's configuration once its URL is known.
ConfigFor = Callable[[str], AuthonomyConfig]
#: Records the webhook events the app's own handlers saw.
Seen = list[WebhookEvent]


def _whoami(user: Any) -> dict[str, Any]:
    if not getattr(user, "is_authenticated", False):
        return {"user": None, "customer": None}
    return {"user": user.id, "customer": user.customer_id}


def _closing(config: AuthonomyConfig) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan that closes the session store's async client on the server's loop."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        aclose = getattr(config.session_store, "aclose", None)
        if aclose is not None:
            await aclose()

    return lifespan


@contextmanager
def _starlette(config_for: ConfigFor, clock: Callable[[], float], seen: Seen) -> Iterator[str]:
    def make(base_url: str) -> Starlette:
        config = config_for(base_url)

        async def whoami(request: Request) -> JSONResponse:
            return JSONResponse(_whoami(request.user))

        @starlette_require_policy("require-mfa")
        async def mfa(request: Request) -> JSONResponse:
            return JSONResponse(_whoami(request.user))

        routes = [Route("/whoami", whoami), Route("/mfa", mfa)]
        if config.webhook_secrets:
            receiver = WebhookReceiver(config)
            receiver.on_any(seen.append)
            endpoint = webhook_endpoint(receiver)
            routes.append(Route(config.webhook_path, endpoint, methods=["POST"]))
        app = Starlette(routes=routes, lifespan=_closing(config))
        app.add_middleware(AuthonomyMiddleware, config=config, clock=clock)
        return app

    with serve(make) as base_url:
        yield base_url


@contextmanager
def _flask(config_for: ConfigFor, clock: Callable[[], float], seen: Seen) -> Iterator[str]:
    def make(base_url: str) -> Flask:
        config = config_for(base_url)
        app = Flask(__name__)
        authonomy = Authonomy(app, config=config, clock=clock)
        if config.webhook_secrets:
            authonomy.webhooks.on_any(seen.append)

        @app.get("/whoami")
        def whoami() -> Any:
            return jsonify(_whoami(current_user))

        @app.get("/mfa")
        @flask_require_policy("require-mfa")
        def mfa() -> Any:
            return jsonify(_whoami(current_user))

        return app

    with serve(make) as url:
        yield url


def _django_urls(config: AuthonomyConfig, *, seen: Seen) -> ModuleType:
    def whoami(request: HttpRequest) -> HttpResponse:
        return JsonResponse(_whoami(request.user))

    patterns = [
        path("whoami", whoami),
        path("mfa", django_require_policy("require-mfa")(whoami)),
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any(seen.append)
        patterns.append(path(config.webhook_path.lstrip("/"), webhook_view(receiver)))
    urls = ModuleType("security_test_urls")
    urls.urlpatterns = patterns  # type: ignore[attr-defined]
    return urls


@contextmanager
def _django(
    config_for: ConfigFor, clock: Callable[[], float], seen: Seen, *, asgi: bool
) -> Iterator[str]:
    urls = partial(_django_urls, seen=seen)
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
