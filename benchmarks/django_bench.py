"""``python -m benchmarks.django_bench [--quick] [--loops N] [--requests N]``: Django, bare
view against the kit, WSGI and ASGI, as CPU time per request.

Variants, each a Django handler (``WSGIHandler`` or ``ASGIHandler``) called directly:

- ``bare``: no middleware at all, a view that answers ``ok``;
- ``no-op middleware`` (WSGI): one middleware that only calls the next, the price
  Django puts on any middleware;
- ``kit bearer``: the kit's middleware, the view behind its ``login_required``, a repeat
  bearer token;
- ``kit session``: the same app, a session cookie of the memory store;
- ``django session``: Django's own ``SessionMiddleware`` + ``AuthenticationMiddleware``
  on SQLite sessions and users, the view behind ``django.contrib.auth``'s
  ``login_required``, a signed-in user's session cookie.

Each variant's requests resolve against a URLconf holding only its own view
(``override_settings(ROOT_URLCONF=...)`` around each loop, outside the timing): with the
six views in one list, a view listed third paid Django's URL resolver two more misses
(two regular-expression searches, about 2 µs) than the bare view listed first.
``--one-urlconf`` measures the old way, every view in one list.

CPU time is the process's (``time.process_time``): Django's ASGI handler runs parts of
a request in a thread of its own, and other processes on a shared machine disturb it far
less than wall time. The best of ``--loops`` loops of ``--requests`` requests is kept,
the variants interleaved. Prints one JSON object of microseconds per request by variant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import django
from django.conf import settings

#: Runs ``n`` requests and answers the CPU microseconds per request.
Loop = Callable[[int], float]

_KIT = "authonomy_integrations.django.AuthonomyMiddleware"
_NOOP = f"{__name__}.NoOpMiddleware"


class NoOpMiddleware:
    """A middleware that only calls the next one: what Django charges for any."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


_DJANGO_AUTH = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def _configure(database: Path) -> None:
    settings.configure(
        SECRET_KEY="benchmarks-only-not-secret",
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "authonomy_integrations.django",
        ],
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        SESSION_ENGINE="django.contrib.sessions.backends.db",
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


def _views() -> list[Any]:
    """The URL patterns: one view, bare or behind each ``login_required``."""
    from django.contrib.auth.decorators import login_required as django_login_required
    from django.http import HttpRequest, HttpResponse
    from django.urls import path

    from authonomy_integrations.django import login_required

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"ok")

    async def aview(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"ok")

    return [
        path("bare", view),
        path("abare", aview),
        path("kit", login_required(view)),
        path("akit", login_required(aview)),
        path("django", django_login_required(view)),
        path("adjango", django_login_required(aview)),
    ]


urlpatterns: list[Any] = []


def _django_session() -> str:
    """A signed-in user's session key in Django's own session store (SQLite)."""
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    user = User.objects.create_user("alice", password=None)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    key: str = session.session_key or ""
    return key


def _handler(middleware: list[str], config: Any, clock: Any, *, asgi: bool) -> Any:
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=middleware, AUTHONOMY_CONFIG=config, AUTHONOMY_CLOCK=clock):
        return ASGIHandler() if asgi else WSGIHandler()


def _wsgi_loop(app: Any, path: str, headers: dict[str, str]) -> Loop:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> None:
        statuses.append(status)

    def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            body: Iterable[bytes] = app(dict(environ, **{"wsgi.input": _Empty()}), start_response)
            for _chunk in body:
                pass
            getattr(body, "close", lambda: None)()
        _check(statuses, path)
        return (time.process_time() - started) / n * 1e6

    return many


class _Empty:
    """A request body with nothing in it."""

    def read(self, *size: int) -> bytes:
        return b""

    def readline(self, *size: int) -> bytes:
        return b""


def _asgi_loop(app: Any, path: str, headers: dict[str, str]) -> Loop:
    raw = [(b"host", b"localhost")]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 1),
    }
    statuses: list[str] = []

    def receiver() -> Callable[[], Any]:
        sent: list[bool] = []

        async def receive() -> dict[str, Any]:
            if sent:  # the body was read: wait for a disconnect that never comes
                await asyncio.get_running_loop().create_future()
            sent.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}

        return receive

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(str(message["status"]))

    async def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), receiver(), send)
        _check(statuses, path)
        return (time.process_time() - started) / n * 1e6

    loop = asyncio.new_event_loop()
    return lambda n: loop.run_until_complete(many(n))


def _alone(many: Loop, path: str) -> Loop:
    """``many`` with requests resolved against a URLconf of ``path``'s view alone, so
    that every variant's view is found at the first try."""
    from django.test.utils import override_settings

    own = ModuleType(f"{__name__}{path.replace('/', '.')}")  # a URLconf, as Django reads one
    own.urlpatterns = [p for p in urlpatterns if f"/{p.pattern}" == path]  # type: ignore[attr-defined]

    def alone(n: int) -> float:
        with override_settings(ROOT_URLCONF=own):
            return many(n)

    return alone


def _check(statuses: list[str], path: str) -> None:
    """Every request was answered 200: a refused one would measure the wrong thing."""
    wrong = {s for s in statuses if not s.startswith("200")}
    if wrong:
        raise SystemExit(f"{path} answered {sorted(wrong)}")
    statuses.clear()


def _variants(tmp: Path, *, one_urlconf: bool = False) -> dict[str, Loop]:
    from authonomy_integrations.sandbox import Sandbox

    from ._world import build_world

    _configure(tmp / "bench.sqlite3")
    urlpatterns.extend(_views())
    django_cookie = _django_session()
    sb = Sandbox().__enter__()  # lives as long as the process
    world = build_world(sb, fresh_pool=1)
    config, clock = world.memory_config, sb.state.clock.now
    bearer = {"Authorization": f"Bearer {world.token}"}
    session = {"Cookie": f"{world.session_cookie_name}={world.memory_login.session_cookie}"}
    own = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={django_cookie}"}
    variants: dict[str, Loop] = {}
    for asgi, loop, prefix in ((False, _wsgi_loop, ""), (True, _asgi_loop, "a")):
        kind = "asgi" if asgi else "wsgi"
        bare = _handler([], None, None, asgi=asgi)
        kit = _handler([_KIT], config, clock, asgi=asgi)
        own_auth = _handler(_DJANGO_AUTH, None, None, asgi=asgi)
        variants[f"{kind} bare"] = loop(bare, f"/{prefix}bare", {})
        if not asgi:
            noop = _handler([_NOOP], None, None, asgi=False)
            variants[f"{kind} no-op middleware"] = loop(noop, f"/{prefix}bare", {})
        variants[f"{kind} kit bearer"] = loop(kit, f"/{prefix}kit", bearer)
        variants[f"{kind} kit session"] = loop(kit, f"/{prefix}kit", session)
        variants[f"{kind} django session"] = loop(own_auth, f"/{prefix}django", own)
    if one_urlconf:
        return variants
    paths = {"bare": "bare", "no-op": "bare", "kit": "kit", "django": "django"}
    return {
        name: _alone(many, f"/{'a' if name.startswith('asgi') else ''}{paths[name.split()[1]]}")
        for name, many in variants.items()
    }


def measure(loops: int, requests: int, *, one_urlconf: bool = False) -> dict[str, float]:
    """Best CPU microseconds per request of each variant."""
    with tempfile.TemporaryDirectory() as tmp:
        variants = _variants(Path(tmp), one_urlconf=one_urlconf)
        for many in variants.values():
            many(50)  # the first request verifies the token; the next are repeats
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(loops):
            for name, many in variants.items():
                best[name] = min(best[name], many(requests))
        return best


def main(argv: list[str]) -> None:
    """Measure and print the JSON, with each variant's ratio to its bare view."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.django_bench")
    parser.add_argument("--quick", action="store_true", help="3 loops of 100 requests")
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--one-urlconf", action="store_true", help="every view in one list")
    args = parser.parse_args(argv)
    loops, requests = (3, 100) if args.quick else (args.loops, args.requests)
    best = measure(loops, requests, one_urlconf=args.one_urlconf)
    ratios = {
        name: round(best[name.split()[0] + " bare"] / value, 3) for name, value in best.items()
    }
    print(json.dumps({"us": best, "ratio": ratios}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
