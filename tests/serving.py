"""Serving an app over real HTTP on a free loopback port: uvicorn for ASGI apps, waitress
(several worker threads) for WSGI apps.

:func:`serve` is the one entry: it binds the port first, makes the app for that URL (an
app's ``app_url`` is where it is served, as in production), serves it until the block
ends, then stops every thread and closes the kit's HTTP clients.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
import waitress
from waitress import wasyncore

#: Closes what an app holds once its server has stopped (sync for WSGI, async for ASGI).
Close = Callable[[], Any]


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, before the app that will listen exists."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL of a bound socket."""
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


@contextmanager
def serve(
    make_app: Callable[[str], Any], *, threads: int = 8, asgi: bool | None = None
) -> Iterator[str]:
    """Serve ``make_app(its_url)`` on a free port until the block ends; yield the URL.

    ASGI apps (``asgi``, as the adapter registry says; else told apart by their type:
    Starlette, FastAPI, Quart, Django's ``ASGIHandler``) run under uvicorn, WSGI apps (Flask,
    Django's ``WSGIHandler``) under waitress with ``threads`` workers.
    """
    sock = bound_socket()
    app = make_app(url_of(sock))
    inner = getattr(app, "wrapped", app)  # an app wrapped as tests.adapters.under_prefix does
    found, close = _kind_of(inner)
    asgi = found if asgi is None else asgi
    if asgi:
        lifespan = not _is_django(inner)  # Django has no lifespan: its clients close below
        with serve_asgi(app, sock, lifespan=lifespan, close=close) as url:
            yield url
    else:
        with serve_wsgi(app, sock, threads=threads, close=close) as url:
            yield url


def _is_django(app: Any) -> bool:
    return type(app).__module__.startswith("django.")


def _kind_of(app: Any) -> tuple[bool, Close | None]:
    """Whether ``app`` is ASGI, and what closes its kit's clients after the server stops."""
    if _is_django(app):
        from .django.helpers import runtime_of

        runtime: Any = runtime_of(app)
        asgi = type(app).__name__ == "ASGIHandler"
        return asgi, (_closing_async(runtime) if asgi else runtime.close)
    if type(app).__module__.startswith("quart."):
        quart_runtime = app.extensions.get("authonomy")  # none with a webhook route only
        return True, _closing_async(quart_runtime) if quart_runtime is not None else None
    extensions = getattr(app, "extensions", None)
    if extensions is not None:  # Flask
        runtime = extensions.get("authonomy")
        return False, runtime.close if runtime is not None else None
    return True, None  # Starlette and FastAPI close their clients in their lifespan


def _closing_async(runtime: Any) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await runtime.aclose()
        # A store's async client (Redis) was made on the server's loop: it ends there too.
        aclose = getattr(runtime.store, "aclose", None)
        if aclose is not None:
            await aclose()
        await asyncio.sleep(0)

    return close


@contextmanager
def serve_wsgi(
    app: Any, sock: socket.socket, *, threads: int = 8, close: Close | None = None
) -> Iterator[str]:
    """Serve the WSGI ``app`` with waitress on ``sock``; yield its URL."""
    server: Any = waitress.create_server(app, sockets=[sock], threads=threads)
    stop = threading.Event()

    def run() -> None:
        # waitress's own loop has no stop switch; this one checks for it between polls
        # and closes the sockets in the thread that polls them.
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.task_dispatcher.shutdown()
        stop.set()
        thread.join(timeout=10)
        if close is not None:
            close()


class _Server(uvicorn.Server):
    """uvicorn that says when it listens, and runs ``close`` on its loop as it stops."""

    def __init__(self, config: uvicorn.Config, close: Close | None) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.close = close

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        if self.close is not None:
            await self.close()


@contextmanager
def serve_asgi(
    app: Any, sock: socket.socket, *, lifespan: bool = True, close: Close | None = None
) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn on ``sock``; yield its URL."""
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", lifespan="on" if lifespan else "off"
    )
    server = _Server(config, close)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(10):
            raise RuntimeError("the app server did not start")
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
