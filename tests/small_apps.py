"""One small guarded app per adapter, the same routes in each, for the tests that run a
scenario through every adapter (security, abuse):

- ``/whoami``: open; who the kit says is calling, as JSON;
- ``/mfa`` and ``/admin``: behind the ``require-mfa`` policy (Django's ``/admin`` view is
  async, so under ASGI it runs on the server's loop instead of Django's sync thread);
- the configuration's webhook path, when it has a webhook secret: each event is appended
  to ``seen`` (or passed to it, when it is a handler);
- ``/admins``: behind the ``admins`` policy;
- any other path: signed-in users only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import ModuleType
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path
from flask import Flask, jsonify
from litestar import Litestar, get
from litestar import Request as LitestarRequest
from litestar.handlers import HTTPRouteHandler
from quart import Quart
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.django import login_required as django_login_required
from authonomy_integrations.django import require_policy as django_require_policy
from authonomy_integrations.django import webhook_view
from authonomy_integrations.flask import Authonomy, current_user
from authonomy_integrations.flask import login_required as flask_login_required
from authonomy_integrations.flask import require_policy as flask_require_policy
from authonomy_integrations.litestar import AuthonomyPlugin, webhook_route
from authonomy_integrations.litestar import login_required as litestar_login_required
from authonomy_integrations.litestar import require_policy as litestar_require_policy
from authonomy_integrations.quart import Authonomy as QuartAuthonomy
from authonomy_integrations.quart import current_user as quart_user
from authonomy_integrations.quart import login_required as quart_login_required
from authonomy_integrations.quart import require_policy as quart_require_policy
from authonomy_integrations.starlette import AuthonomyMiddleware, webhook_endpoint
from authonomy_integrations.starlette import login_required as starlette_login_required
from authonomy_integrations.starlette import require_policy as starlette_require_policy
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

#: Records the webhook events the app's own handler saw, or is that handler.
Seen = list[WebhookEvent] | Callable[[WebhookEvent], Any]
#: The clock the kit reads (``None``: the real time).
Clock = Callable[[], float] | None


def _handler(seen: Seen | None) -> Callable[[WebhookEvent], Any]:
    """What the app's webhook receiver runs for every event."""
    if seen is None:
        return [].append
    return seen.append if isinstance(seen, list) else seen


def whoami(user: Any) -> dict[str, Any]:
    """What every route answers: the caller the kit found, if any."""
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


def starlette_app(
    config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None
) -> AuthonomyMiddleware:
    """The app under the Starlette adapter (the middleware, so its runtime is at hand)."""

    async def who(request: Request) -> JSONResponse:
        return JSONResponse(whoami(request.user))

    routes: list[BaseRoute] = [
        Route("/whoami", who),
        Route("/mfa", starlette_require_policy("require-mfa")(who)),
        Route("/admin", starlette_require_policy("require-mfa")(who)),
        Route("/admins", starlette_require_policy("admins")(who)),
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any(_handler(seen))
        routes.append(Route(config.webhook_path, webhook_endpoint(receiver), methods=["POST"]))
    routes.append(Route("/{rest:path}", starlette_login_required(who)))
    inner = Starlette(routes=routes, lifespan=_closing(config))
    return AuthonomyMiddleware(inner, config=config, clock=clock)


#: Test-only header a test app turns into the connection's client address, as a server
#: would from the socket, so one client can speak for several addresses.
CLIENT_ADDRESS = "x-test-client-address"
#: The :data:`CLIENT_ADDRESS` value for "the server reports no address" (a Unix socket).
NO_ADDRESS = "-"


class _ClientAddress:
    """WSGI: ``REMOTE_ADDR`` from :data:`CLIENT_ADDRESS`, outside the kit's own layer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        address = environ.get("HTTP_" + CLIENT_ADDRESS.upper().replace("-", "_"))
        if address:
            environ["REMOTE_ADDR"] = "" if address == NO_ADDRESS else address
        return self.app(environ, start_response)


def flask_app(config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None) -> Flask:
    """The app under the Flask adapter."""
    app = Flask(__name__)
    authonomy = Authonomy(app, config=config, clock=clock)
    app.wsgi_app = _ClientAddress(app.wsgi_app)  # type: ignore[method-assign]
    if config.webhook_secrets:
        authonomy.webhooks.on_any(_handler(seen))

    @app.get("/whoami")
    def who() -> Any:
        return jsonify(whoami(current_user))

    app.get("/mfa", endpoint="mfa")(flask_require_policy("require-mfa")(who))
    app.get("/admin", endpoint="admin")(flask_require_policy("require-mfa")(who))
    app.get("/admins", endpoint="admins")(flask_require_policy("admins")(who))

    @app.get("/<path:rest>")
    @flask_login_required
    def page(rest: str) -> Any:
        return jsonify(whoami(current_user))

    return app


def django_urls(config: AuthonomyConfig, seen: Seen | None = None) -> ModuleType:
    """The app under the Django adapter, as the URLconf it serves (see
    :func:`tests.adapters.serve_django`)."""

    def who(request: HttpRequest) -> HttpResponse:
        return JsonResponse(whoami(request.user))

    @django_require_policy("require-mfa")
    async def admin(request: HttpRequest) -> HttpResponse:
        return JsonResponse(whoami(request.user))

    @django_login_required
    def page(request: HttpRequest, rest: str) -> HttpResponse:
        return JsonResponse(whoami(request.user))

    patterns: list[URLPattern] = [
        path("whoami", who),
        path("mfa", django_require_policy("require-mfa")(who)),
        path("admin", admin),
        path("admins", django_require_policy("admins")(who)),
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any(_handler(seen))
        patterns.append(path(config.webhook_path.lstrip("/"), webhook_view(receiver)))
    patterns.append(re_path(r"^(?P<rest>.*)$", page))
    urls = ModuleType("small_app_urls")
    urls.urlpatterns = patterns  # type: ignore[attr-defined]
    return urls


class _AsgiClientAddress:
    """ASGI: ``scope["client"]`` from :data:`CLIENT_ADDRESS`, outside the kit's own layer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", ()):
            if name == CLIENT_ADDRESS.encode():
                client = None if value.decode() == NO_ADDRESS else (value.decode(), 50000)
                scope = {**scope, "client": client}
        await self.app(scope, receive, send)


def quart_app(config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None) -> Quart:
    """The app under the Quart adapter."""
    app = Quart(__name__)
    authonomy = QuartAuthonomy(app, config=config, clock=clock)
    app.asgi_app = _AsgiClientAddress(app.asgi_app)  # type: ignore[method-assign]
    if config.webhook_secrets:
        authonomy.webhooks.on_any(_handler(seen))

    @app.get("/whoami")
    async def who() -> Any:
        return whoami(quart_user)

    app.get("/mfa", endpoint="mfa")(quart_require_policy("require-mfa")(who))
    app.get("/admin", endpoint="admin")(quart_require_policy("require-mfa")(who))
    app.get("/admins", endpoint="admins")(quart_require_policy("admins")(who))

    @app.get("/<path:rest>")
    @quart_login_required
    async def page(rest: str) -> Any:
        return whoami(quart_user)

    return app


def litestar_app(
    config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None
) -> Litestar:
    """The app under the Litestar adapter (the plugin's runtime: ``app.plugins``)."""

    async def who(request: LitestarRequest[Any, Any, Any]) -> dict[str, Any]:
        return whoami(request.user)

    mfa = [litestar_require_policy("require-mfa")]
    handlers: list[HTTPRouteHandler] = [
        get("/whoami", name="whoami")(who),
        get("/mfa", guards=mfa, name="mfa")(who),
        get("/admin", guards=mfa, name="admin")(who),
        get("/admins", guards=[litestar_require_policy("admins")], name="admins")(who),
        get(["/", "/{rest:path}"], guards=[litestar_login_required], name="page")(who),
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any(_handler(seen))
        handlers.append(webhook_route(receiver, path=config.webhook_path))
    plugin = AuthonomyPlugin(config=config, clock=clock)
    # No logging configuration of Litestar's: it would replace the root logger's
    # handlers, the test's log capture among them.
    return Litestar(
        handlers, plugins=[plugin], on_shutdown=[closing_store(config)], logging_config=None
    )


def closing_store(config: AuthonomyConfig) -> Callable[[], Awaitable[None]]:
    """A shutdown hook that closes the session store's async client on the server's loop."""

    async def close() -> None:
        aclose = getattr(config.session_store, "aclose", None)
        if aclose is not None:
            await aclose()

    return close
