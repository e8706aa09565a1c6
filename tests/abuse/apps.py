"""The small app of each adapter (:mod:`tests.small_apps`), and a uniform way to reach
it and its runtime, for abuse tests.

Django's app is served over real HTTP (waitress for WSGI, uvicorn for ASGI) and reached
with an ``httpx.Client``; the server runs in this process, so its runtime is at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from flask import Flask
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core import policies
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync

from .. import adapters
from ..adapters import ADAPTERS, CLIENT_ADDRESS, NO_ADDRESS
from ..django.helpers import runtime_of
from ..small_apps import django_urls, flask_app, starlette_app

__all__ = [
    "ADAPTERS",
    "NO_ADDRESS",
    "Kit",
    "flask_app",
    "home",
    "kit",
    "serve_django",
    "set_cookies",
    "starlette_app",
    "take_session_cookie",
    "with_session_cookie",
]


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


@dataclass
class Kit:
    """A test client of an app, and the runtime the app's kit runs on."""

    client: Any
    runtime: AuthonomyAsync | AuthonomySync
    app: Any = None
    """The app under test (the ASGI middleware, or the Flask app)."""

    def get_from(self, address: str, url: str, headers: dict[str, str]) -> Any:
        """GET ``url`` as a client connecting from ``address`` (:data:`NO_ADDRESS`: from
        none the server can tell)."""
        if isinstance(self.app, Flask):
            remote = "" if address == NO_ADDRESS else address
            return self.client.get(url, headers=headers, environ_overrides={"REMOTE_ADDR": remote})
        # Starlette's and Django's test apps turn this header into the client's address.
        return self.client.get(url, headers={**headers, CLIENT_ADDRESS: address})

    def state(self) -> dict[str, int]:
        """The size of every table the kit keeps in memory."""
        runtime, engine = self.runtime, self.runtime.engine
        return {
            "policies": len(engine.policies),
            "locks": len(runtime.locks),
            "login throttle": len(engine.login_throttle),
            "bearer tokens": len(engine.bearer_cache),
            "recent sessions": len(engine.recent_sessions),
            "ended sessions": len(engine._ended),
            "sessions": len(runtime.store),
            "guard policies": len(policies._GUARD_POLICIES),
            "background tasks": len(getattr(runtime, "_tasks", ())),
        }


@contextmanager
def serve_django(
    config: AuthonomyConfig,
    clock: Callable[[], float] | None,
    *,
    asgi: bool,
    urls: ModuleType | None = None,
) -> Iterator[tuple[str, Any]]:
    """The Django test app (or one with ``urls``) under uvicorn (``asgi``) or waitress;
    its URL and handler. The app's ``app_url`` is where it is served, as in production."""
    with adapters.serve_django(
        lambda url: config.replace(app_url=url),
        lambda config: urls or django_urls(config),
        clock,
        asgi=asgi,
    ) as served:
        yield served


@contextmanager
def kit(
    adapter: str, config: AuthonomyConfig, clock: Callable[[], float] | None = None
) -> Iterator[Kit]:
    """The app for ``adapter`` with ``config``, and a client that follows no redirect:
    Starlette's TestClient (inside ``with``, so the app's event loop lives as long as the
    client), Flask's test client, and for Django the app under waitress (WSGI) or uvicorn
    (ASGI) with an ``httpx.Client``."""
    with ExitStack() as stack:
        if adapter == "flask":
            app = flask_app(config, clock)
            runtime = app.extensions["authonomy"]
            stack.callback(runtime.close)
            yield Kit(app.test_client(), runtime, app)
            return
        if adapter.startswith("django"):
            url, handler = stack.enter_context(
                serve_django(config, clock, asgi=adapter == "django-asgi")
            )
            client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
            yield Kit(client, runtime_of(handler), handler)
            return
        middleware = starlette_app(config, clock)
        client = TestClient(_ClientAddress(middleware), follow_redirects=False)
        yield Kit(stack.enter_context(client), middleware.runtime, middleware)


def set_cookies(answer: Any) -> list[str]:
    """The ``Set-Cookie`` values of a response from any of the test clients."""
    headers = answer.headers
    return list(
        headers.getlist("set-cookie")
        if hasattr(headers, "getlist")
        else headers.get_list("set-cookie")
    )


def with_session_cookie(client: Any, cookie: str) -> dict[str, str]:
    """Send ``cookie`` as the session cookie on the client's next request: through the
    jar of Flask's test client (which sends only its jar), as a header for the others."""
    if hasattr(client, "set_cookie"):
        client.set_cookie("authonomy_session", cookie)
        return {}
    return {"Cookie": f"authonomy_session={cookie}"}


def home(client: Any, cookie: str) -> int:
    """The status of a page behind ``login_required`` (an API call), sent with ``cookie``."""
    headers = {"Accept": "application/json", **with_session_cookie(client, cookie)}
    return int(client.get("/home", headers=headers).status_code)


def take_session_cookie(client: Any) -> str:
    """The session cookie a sign-in left in the client's jar, taken out of it: the tests
    send it themselves, so a cookie the app cleared cannot hide a session still working."""
    if hasattr(client, "get_cookie"):  # Flask's test client
        cookie = client.get_cookie("authonomy_session").value
        client.delete_cookie("authonomy_session")
    else:
        cookie = client.cookies.get("authonomy_session")
        client.cookies.clear()
    assert cookie, "no session cookie"
    return str(cookie)
