"""One small guarded app per adapter, the same routes in each, for the tests that run a
scenario through every adapter (security, abuse):

- ``/whoami``: open; who the kit says is calling, as JSON;
- ``/mfa`` and ``/admin``: behind the ``require-mfa`` policy (Django's ``/admin`` view is
  async, so under ASGI it runs on the server's loop instead of Django's sync thread);
- the configuration's webhook path, when it has a webhook secret: each event is appended
  to ``seen``;
- any other path: signed-in users only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import ModuleType
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path
from flask import Flask, jsonify
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
from authonomy_integrations.starlette import AuthonomyMiddleware, webhook_endpoint
from authonomy_integrations.starlette import login_required as starlette_login_required
from authonomy_integrations.starlette import require_policy as starlette_require_policy
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

#: Records the webhook events the app's own handlers saw.
Seen = list[WebhookEvent]
#: The clock the kit reads (``None``: the real time).
Clock = Callable[[], float] | None


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
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any((seen if seen is not None else []).append)
        routes.append(Route(config.webhook_path, webhook_endpoint(receiver), methods=["POST"]))
    routes.append(Route("/{rest:path}", starlette_login_required(who)))
    inner = Starlette(routes=routes, lifespan=_closing(config))
    return AuthonomyMiddleware(inner, config=config, clock=clock)


def flask_app(config: AuthonomyConfig, clock: Clock = None, seen: Seen | None = None) -> Flask:
    """The app under the Flask adapter."""
    app = Flask(__name__)
    authonomy = Authonomy(app, config=config, clock=clock)
    if config.webhook_secrets:
        authonomy.webhooks.on_any((seen if seen is not None else []).append)

    @app.get("/whoami")
    def who() -> Any:
        return jsonify(whoami(current_user))

    app.get("/mfa", endpoint="mfa")(flask_require_policy("require-mfa")(who))
    app.get("/admin", endpoint="admin")(flask_require_policy("require-mfa")(who))

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
    ]
    if config.webhook_secrets:
        receiver = WebhookReceiver(config)
        receiver.on_any((seen if seen is not None else []).append)
        patterns.append(path(config.webhook_path.lstrip("/"), webhook_view(receiver)))
    patterns.append(re_path(r"^(?P<rest>.*)$", page))
    urls = ModuleType("small_app_urls")
    urls.urlpatterns = patterns  # type: ignore[attr-defined]
    return urls
