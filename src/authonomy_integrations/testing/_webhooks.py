"""``send_webhook``: a correctly signed delivery, posted to the app through its test client.

The delivery is what Authonomy sends (``{"id", "type", "timestamp", "data"}``, signed per
Standard Webhooks); the app verifies it as it verifies any other, so a test of a handler
also tests the route, and a test with the wrong secret sees the app refuse it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from .._config import AuthonomyConfig
from .._errors import ConfigurationError
from ..webhooks import sign
from ._login import is_quart, loop_running

__all__ = ["asend_webhook", "send_webhook"]

#: Where the kit's webhook route is unless the app's configuration moves it.
DEFAULT_PATH = AuthonomyConfig.webhook_path
_SECRET_VARIABLE = "AUTHONOMY_WEBHOOK_SECRET"


def _is_django(client: Any) -> bool:
    return type(client).__module__.startswith(("django.test", "rest_framework.test"))


def _is_async(client: Any) -> bool:
    return isinstance(client, httpx.AsyncClient) or type(client).__name__ == "AsyncClient"


def _starlette_config(app: Any) -> AuthonomyConfig | None:
    """The configuration of the ``AuthonomyMiddleware`` in a Starlette app, if any."""
    from ..starlette import AuthonomyMiddleware

    for _ in range(50):  # an app wrapped in middleware: follow ``.app`` inwards
        if isinstance(app, AuthonomyMiddleware):
            return app.config
        for layer in getattr(app, "user_middleware", ()):
            if isinstance(layer.cls, type) and issubclass(layer.cls, AuthonomyMiddleware):
                found = [*layer.args, *layer.kwargs.values()]
                return next((v for v in found if isinstance(v, AuthonomyConfig)), None)
        app = getattr(app, "app", None)
    return None


def _litestar_config(app: Any) -> AuthonomyConfig | None:
    """The configuration of the ``AuthonomyPlugin`` of a Litestar app, if any."""
    plugins = getattr(getattr(app, "plugins", None), "init", ())  # Litestar's plugin registry
    configs = (getattr(plugin, "config", None) for plugin in plugins)
    return next((c for c in configs if isinstance(c, AuthonomyConfig)), None)


def _django_config() -> AuthonomyConfig | None:
    from ..django._settings import configured

    try:
        return configured()
    except ConfigurationError:
        return None


def _app_config(client: Any) -> AuthonomyConfig | None:
    """The configuration of the app behind ``client``, where the client exposes it."""
    if _is_django(client):
        return _django_config()
    application = getattr(client, "application", None)  # Flask's test client
    if is_quart(client):
        application = client.app
    extensions = getattr(application, "extensions", None)
    if isinstance(extensions, dict) and "authonomy" in extensions:
        return getattr(extensions["authonomy"], "config", None)
    app = getattr(client, "app", None)  # Starlette's or Litestar's TestClient
    if app is None:
        return None
    return _litestar_config(app) or _starlette_config(app)


def _secret(client: Any, config: AuthonomyConfig | None) -> str:
    if config is not None and config.webhook_secrets:
        return config.webhook_secrets[0]
    from_env = os.environ.get(_SECRET_VARIABLE, "").split(",")[0].strip()
    if from_env:
        return from_env
    raise ValueError(
        f"send_webhook: no webhook secret found for {type(client).__name__}: pass secret= "
        f"(the app's webhook secret, e.g. sandbox.webhook_secret) or set {_SECRET_VARIABLE}"
    )


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _delivery(
    client: Any,
    event_type: str,
    data: Mapping[str, Any],
    secret: str | None,
    path: str | None,
    event_id: str | None,
) -> tuple[str, bytes, dict[str, str]]:
    """The path, body and headers of one delivery to the app behind ``client``."""
    if not isinstance(event_type, str) or not isinstance(data, Mapping):
        raise TypeError("send_webhook(client, event_type, data): a str and the event's data dict")
    config = None if secret is not None and path is not None else _app_config(client)
    event_id = event_id or f"evt_{secrets.token_hex(8)}"
    now = time.time()
    payload = {
        "id": event_id,
        "type": event_type,
        "timestamp": _iso(now),
        "data": dict(data),
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = sign(secret or _secret(client, config), event_id, now, body)
    headers["content-type"] = "application/json"
    return path or (config.webhook_path if config else DEFAULT_PATH), body, headers


def send_webhook(
    client: Any,
    event_type: str,
    data: Mapping[str, Any],
    *,
    secret: str | None = None,
    path: str | None = None,
    event_id: str | None = None,
) -> Any:
    """Post a correctly signed ``event_type`` delivery carrying ``data``; the app's response.

    ``client`` is Starlette's ``TestClient`` or any ``httpx.Client``, Flask's test client,
    Django's test ``Client`` (DRF's ``APIClient`` too), or Quart's test client outside an
    event loop (its call runs on a loop of its own); for async clients use
    :func:`asend_webhook`. ``secret`` defaults to the webhook secret of the app's own
    configuration when the client leads to it (FastAPI/Starlette, Flask, Django
    settings), else ``AUTHONOMY_WEBHOOK_SECRET``; ``path`` to its ``webhook_path``
    (``/webhooks/authonomy``); ``event_id`` to a fresh ``evt_...`` (pass one twice to
    test a replay).
    """
    if _is_async(client):
        raise TypeError(f"{type(client).__name__} is async: use `await asend_webhook(...)`")
    target, body, headers = _delivery(client, event_type, data, secret, path, event_id)
    if isinstance(client, httpx.Client):
        return client.post(target, content=body, headers=headers)
    if _is_django(client):
        return client.post(target, data=body, content_type=headers.pop("content-type"),
                           headers=headers)  # fmt: skip
    if hasattr(client, "application"):  # Flask's (Werkzeug's) test client
        return client.post(target, data=body, headers=headers)
    if is_quart(client):  # async: run on an event loop of its own, outside async tests
        if loop_running():
            raise TypeError(f"{type(client).__name__} is async: use `await asend_webhook(...)`")
        return asyncio.run(client.post(target, data=body, headers=headers))
    raise TypeError(f"send_webhook does not know {type(client).__name__}; see its docstring")


async def asend_webhook(
    client: Any,
    event_type: str,
    data: Mapping[str, Any],
    *,
    secret: str | None = None,
    path: str | None = None,
    event_id: str | None = None,
) -> Any:
    """:func:`send_webhook` for an ``httpx.AsyncClient``, Django's ``AsyncClient`` or
    Quart's test client."""
    target, body, headers = _delivery(client, event_type, data, secret, path, event_id)
    if isinstance(client, httpx.AsyncClient):
        return await client.post(target, content=body, headers=headers)
    if _is_django(client) and _is_async(client):
        return await client.post(target, data=body, content_type=headers.pop("content-type"),
                                 headers=headers)  # fmt: skip
    if is_quart(client):
        return await client.post(target, data=body, headers=headers)
    raise TypeError(f"asend_webhook needs an async client, not {type(client).__name__}")
