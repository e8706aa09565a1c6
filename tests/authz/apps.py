"""One small app per adapter for the authorization scenarios, the same routes in each:

- ``/whoami``: open; who the kit says is calling;
- ``/reports`` (sync) and ``/reports/async``: behind ``require_scopes("reports:read")``;
- ``/drf/reports`` (Django only): an API view with ``RequireScopes("reports:read")``;
- ``/token`` (sync) and ``/token/async``: the caller's access token, as a view that calls
  another API with it would get it;
- ``/admin/end-sessions/<user>`` (POST): admin code ending every session of a user
  (Django: an async view, and a sync one at ``/admin/end-sessions-sync/<user>``);
- the webhook route, when the configuration has a webhook secret.

Served over real HTTP through :data:`ADAPTERS`, like the security suite's apps.
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
from django.views.decorators.csrf import csrf_exempt
from flask import Flask, jsonify
from litestar import Litestar, get, post
from litestar import Request as LitestarRequest
from quart import Quart
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations import django as kit_django
from authonomy_integrations import flask as kit_flask
from authonomy_integrations import litestar as kit_litestar
from authonomy_integrations import quart as kit_quart
from authonomy_integrations import starlette as kit_starlette
from authonomy_integrations.webhooks import WebhookReceiver

from .. import adapters as registry
from ..adapters import ConfigFor, serve_django
from ..serving import serve
from ..small_apps import closing_store, whoami

SCOPE = "reports:read"
Clock = Callable[[], float] | None


def starlette_app(config: AuthonomyConfig, clock: Clock) -> kit_starlette.AuthonomyMiddleware:
    """The app under the Starlette adapter."""

    async def who(request: Request) -> JSONResponse:
        return JSONResponse(whoami(request.user))

    def who_sync(request: Request) -> JSONResponse:
        return JSONResponse(whoami(request.user))

    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"token": await kit_starlette.access_token(request)})

    async def end(request: Request) -> JSONResponse:
        user = request.path_params["user"]
        return JSONResponse({"ended": await kit_starlette.end_sessions(request, user)})

    guard = kit_starlette.require_scopes(SCOPE)
    routes = [
        Route("/whoami", who),
        Route("/reports", guard(who_sync)),
        Route("/reports/async", guard(who)),
        Route("/token", token),
        Route("/token/async", token),
        Route("/admin/end-sessions/{user}", end, methods=["POST"]),
    ]
    if config.webhook_secrets:
        receiver = kit_starlette.webhook_endpoint(WebhookReceiver(config))
        routes.append(Route(config.webhook_path, receiver, methods=["POST"]))
    inner = Starlette(routes=routes, lifespan=_closing(config))
    return kit_starlette.AuthonomyMiddleware(inner, config=config, clock=clock)


def _closing(config: AuthonomyConfig) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan that closes the session store's async client on the server's loop."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        aclose = getattr(config.session_store, "aclose", None)
        if aclose is not None:
            await aclose()

    return lifespan


def flask_app(config: AuthonomyConfig, clock: Clock) -> Flask:
    """The app under the Flask adapter."""
    app = Flask(__name__)
    kit_flask.Authonomy(app, config=config, clock=clock)

    @app.get("/whoami")
    def who() -> Any:
        return jsonify(whoami(kit_flask.current_user))

    @kit_flask.require_scopes(SCOPE)
    def reports() -> Any:
        return jsonify(whoami(kit_flask.current_user))

    @kit_flask.require_scopes(SCOPE)
    async def reports_async() -> Any:
        return jsonify(whoami(kit_flask.current_user))

    def token() -> Any:
        return jsonify({"token": kit_flask.access_token()})

    async def token_async() -> Any:
        return jsonify({"token": kit_flask.access_token()})

    def end(user: str) -> Any:
        return jsonify({"ended": kit_flask.end_sessions(user)})

    app.get("/reports", endpoint="reports")(reports)
    app.get("/reports/async", endpoint="reports_async")(reports_async)
    app.get("/token", endpoint="token")(token)
    app.get("/token/async", endpoint="token_async")(token_async)
    app.post("/admin/end-sessions/<user>", endpoint="end")(end)
    return app


def quart_app(config: AuthonomyConfig, clock: Clock) -> Quart:
    """The app under the Quart adapter (``/reports`` a plain view, run in a thread)."""
    app = Quart(__name__)
    kit_quart.Authonomy(app, config=config, clock=clock)

    @app.get("/whoami")
    async def who() -> Any:
        return whoami(kit_quart.current_user)

    @kit_quart.require_scopes(SCOPE)
    def reports() -> Any:
        return whoami(kit_quart.current_user)

    @kit_quart.require_scopes(SCOPE)
    async def reports_async() -> Any:
        return whoami(kit_quart.current_user)

    async def token() -> Any:
        return {"token": await kit_quart.access_token()}

    async def end(user: str) -> Any:
        return {"ended": await kit_quart.end_sessions(user)}

    app.get("/reports", endpoint="reports")(reports)
    app.get("/reports/async", endpoint="reports_async")(reports_async)
    app.get("/token", endpoint="token")(token)
    app.get("/token/async", endpoint="token_async")(token)
    app.post("/admin/end-sessions/<user>", endpoint="end")(end)
    return app


def _drf_reports() -> Any:
    """A DRF API view behind ``RequireScopes`` (imported once Django is configured)."""
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from authonomy_integrations.django.rest_framework import RequireScopes

    class Reports(APIView):
        permission_classes = [RequireScopes(SCOPE)]

        def get(self, request: Any) -> Response:
            return Response(whoami(request.user))

    return Reports.as_view()


def django_urls(config: AuthonomyConfig) -> ModuleType:
    """The app under the Django adapter, as the URLconf it serves."""

    def who(request: HttpRequest) -> HttpResponse:
        return JsonResponse(whoami(request.user))

    @kit_django.require_scopes(SCOPE)
    async def reports_async(request: HttpRequest) -> HttpResponse:
        return JsonResponse(whoami(request.user))

    def token(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"token": kit_django.access_token(request)})

    async def token_async(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"token": await kit_django.aaccess_token(request)})

    @csrf_exempt
    async def end(request: HttpRequest, user: str) -> HttpResponse:
        return JsonResponse({"ended": await kit_django.aend_sessions(request, user)})

    @csrf_exempt
    def end_sync(request: HttpRequest, user: str) -> HttpResponse:
        return JsonResponse({"ended": kit_django.end_sessions(request, user)})

    patterns = [
        path("whoami", who),
        path("reports", kit_django.require_scopes(SCOPE)(who)),
        path("reports/async", reports_async),
        path("drf/reports", _drf_reports()),
        path("token", token),
        path("token/async", token_async),
        path("admin/end-sessions/<str:user>", end),
        path("admin/end-sessions-sync/<str:user>", end_sync),
    ]
    if config.webhook_secrets:
        receiver = kit_django.webhook_view(WebhookReceiver(config))
        patterns.append(path(config.webhook_path.lstrip("/"), receiver))
    urls = ModuleType("authz_app_urls")
    urls.urlpatterns = patterns  # type: ignore[attr-defined]
    return urls


def litestar_app(config: AuthonomyConfig, clock: Clock) -> Litestar:
    """The app under the Litestar adapter."""
    guards = [kit_litestar.require_scopes(SCOPE)]

    async def who(request: LitestarRequest[Any, Any, Any]) -> dict[str, Any]:
        return whoami(request.user)

    def who_sync(request: LitestarRequest[Any, Any, Any]) -> dict[str, Any]:
        return whoami(request.user)

    async def token(request: LitestarRequest[Any, Any, Any]) -> dict[str, Any]:
        return {"token": await kit_litestar.access_token(request)}

    async def end(request: LitestarRequest[Any, Any, Any]) -> dict[str, Any]:
        user = request.path_params["user"]
        return {"ended": await kit_litestar.end_sessions(request, user)}

    handlers = [
        get("/whoami", name="who")(who),
        get("/reports", guards=guards, sync_to_thread=True, name="reports")(who_sync),
        get("/reports/async", guards=guards, name="reports_async")(who),
        get(["/token", "/token/async"], name="token")(token),
        post("/admin/end-sessions/{user:str}", status_code=200, name="end")(end),
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        handlers.append(kit_litestar.webhook_route(receiver, path=config.webhook_path))
    plugin = kit_litestar.AuthonomyPlugin(config=config, clock=clock)
    return Litestar(
        handlers, plugins=[plugin], on_shutdown=[closing_store(config)], logging_config=None
    )


@contextmanager
def _litestar(config_for: ConfigFor, clock: Clock) -> Iterator[str]:
    with serve(lambda url: litestar_app(config_for(url), clock)) as url:
        yield url


@contextmanager
def _starlette(config_for: ConfigFor, clock: Clock) -> Iterator[str]:
    with serve(lambda url: starlette_app(config_for(url), clock)) as url:
        yield url


@contextmanager
def _flask(config_for: ConfigFor, clock: Clock) -> Iterator[str]:
    with serve(lambda url: flask_app(config_for(url), clock)) as url:
        yield url


@contextmanager
def _quart(config_for: ConfigFor, clock: Clock) -> Iterator[str]:
    with serve(lambda url: quart_app(config_for(url), clock), asgi=True) as url:
        yield url


@contextmanager
def _django(config_for: ConfigFor, clock: Clock, *, asgi: bool) -> Iterator[str]:
    with serve_django(config_for, django_urls, clock, asgi=asgi) as (url, _):
        yield url


@dataclass(frozen=True)
class Adapter:
    """One framework adapter: serves the app over real HTTP and yields its URL."""

    name: str
    _serve: Callable[[ConfigFor, Clock], AbstractContextManager[str]]

    def serve(self, config_for: ConfigFor, clock: Clock = None) -> AbstractContextManager[str]:
        """Serve the app configured by ``config_for(base_url)``, on ``clock``."""
        return self._serve(config_for, clock)

    def __str__(self) -> str:
        return self.name


#: How each adapter of the registry (:mod:`tests.adapters`) serves this suite's app: an
#: entry added there without one here fails at import, so no adapter is left out.
_SERVERS: dict[str, Callable[[ConfigFor, Clock], AbstractContextManager[str]]] = {
    "starlette": _starlette,
    "flask": _flask,
    "django-wsgi": partial(_django, asgi=False),
    "django-asgi": partial(_django, asgi=True),
    "quart": _quart,
    "litestar": _litestar,
}
ADAPTERS = [Adapter(entry.name, _SERVERS[entry.name]) for entry in registry.ADAPTERS]
