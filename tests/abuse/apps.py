"""The small app of each adapter of the registry (:mod:`tests.adapters`), and a uniform
way to reach it and its runtime, for abuse tests.

Apps whose framework has no fitting test client (Django) are served over real HTTP and
reached with an ``httpx.Client``; the server runs in this process, so the runtime is at
hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core import policies
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync

from .. import adapters
from ..adapters import CLIENT_ADDRESS, NO_ADDRESS, adapter_named
from ..small_apps import django_urls, flask_app, starlette_app

#: The name of every adapter of the registry (:mod:`tests.adapters`).
ADAPTERS = [entry.name for entry in adapters.ADAPTERS]

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


@dataclass
class Kit:
    """A test client of an app, and the runtime the app's kit runs on."""

    client: Any
    runtime: AuthonomyAsync | AuthonomySync
    app: Any = None
    """The app under test (the ASGI middleware, or the Flask app)."""

    def get_from(self, address: str, url: str, headers: dict[str, str]) -> Any:
        """GET ``url`` as a client connecting from ``address`` (every adapter's test app
        turns this header into the client's address)."""
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
    """The small app of ``adapter`` with ``config``, and a client of it that follows no
    redirect: the framework's test client (Starlette's inside ``with``, so the app's event
    loop lives as long as the client), else the app served over real HTTP (Django, under
    waitress or uvicorn) with an ``httpx.Client``."""
    entry = adapter_named(adapter)
    with entry.calling(config, clock) as (client, app):
        yield Kit(client, entry.runtime(app), app)


def set_cookies(answer: Any) -> list[str]:
    """The ``Set-Cookie`` values of a response from any of the test clients."""
    headers = answer.headers
    return list(
        headers.getlist("set-cookie")
        if hasattr(headers, "getlist")
        else headers.get_list("set-cookie")
    )


def json_body(answer: Any) -> Any:
    """The JSON body of any adapter's test client answer (Flask's is a property)."""
    return answer.json() if callable(answer.json) else answer.json


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
