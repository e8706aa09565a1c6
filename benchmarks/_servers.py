"""Apps served over real HTTP by the HTTP benchmark (uvicorn and waitress factories).

The kit apps read the sandbox they trust from ``BENCH_SANDBOX`` (JSON: issuer,
api_base_url, api_key, audience), set by the benchmark that starts them.
"""

from __future__ import annotations

import json
import os

from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from authonomy_integrations._config import AuthonomyConfig


def _config() -> AuthonomyConfig:
    sandbox = json.loads(os.environ["BENCH_SANDBOX"])
    return AuthonomyConfig(environment="sandbox", customer_id="acme-corp", **sandbox)


def _same_body() -> str:
    # The bare apps answer the body the kit apps answer (alice's name), so both send the
    # same bytes: waitress writes an empty body differently from a non-empty one.
    return os.environ["BENCH_BODY"]


async def _api(request: Request) -> Response:
    user = request.scope.get("user")
    return PlainTextResponse(user.display_name if user is not None else _same_body())


def starlette_bare() -> Starlette:
    """``GET /api`` answering a fixed body as long as the kit app's."""
    return Starlette(routes=[Route("/api", _api)])


def starlette_kit() -> Starlette:
    """The same app behind the kit's middleware."""
    from authonomy_integrations.starlette import AuthonomyMiddleware

    middleware = [Middleware(AuthonomyMiddleware, config=_config())]
    return Starlette(routes=[Route("/api", _api)], middleware=middleware)


def flask_bare() -> Flask:
    """``GET /api`` answering a fixed body as long as the kit app's."""
    app = Flask("http_bare")
    body = _same_body()
    app.add_url_rule("/api", "api", lambda: body)
    return app


def flask_kit() -> Flask:
    """The same route reading the kit's ``current_user``."""
    from authonomy_integrations.flask import Authonomy, current_user

    app = Flask("http_kit")
    Authonomy(app, config=_config())
    app.add_url_rule("/api", "api", lambda: current_user.display_name)
    return app
