"""Calling a WSGI app in-process with a prebuilt environ, like the ASGI client."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from http.cookies import SimpleCookie
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ(
    path: str = "/api",
    *,
    bearer: str | None = None,
    cookie: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The environ of ``GET path`` from 127.0.0.1, as a WSGI server would build it."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench/1.0",
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if bearer is not None:
        env["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    if cookie is not None:
        env["HTTP_COOKIE"] = f"{cookie[0]}={cookie[1]}"
    return env


class WsgiClient:
    """Sends prebuilt environs (cycled) to one app; keeps the status and new cookies."""

    def __init__(self, app: WSGIApp, environs: Sequence[dict[str, Any]]) -> None:
        self.app = app
        self.environs = list(environs)
        self.status = ""

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        """Record the status; a new session cookie replaces the one we send."""
        self.status = status
        for name, value in headers:
            if name.lower() == "set-cookie":
                self._store_cookie(value)
        return _discard

    def _store_cookie(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for env in self.environs:
            sent = env.get("HTTP_COOKIE", "").split("=", 1)[0]
            if sent and sent in jar and jar[sent].value:
                env["HTTP_COOKIE"] = f"{sent}={jar[sent].value}"

    def timed(self, n: int) -> int:
        """Make ``n`` requests, reading each body; nanoseconds spent."""
        app, envs, start_response, count = (
            self.app,
            self.environs,
            self.start_response,
            len(self.environs),
        )
        start = time.perf_counter_ns()
        for i in range(n):
            response = app(dict(envs[i % count]), start_response)
            for _chunk in response:
                pass
            close = getattr(response, "close", None)
            if close is not None:
                close()
        return time.perf_counter_ns() - start

    def probe(self) -> tuple[str, bytes]:
        """One request: its status line and body."""
        response = self.app(dict(self.environs[0]), self.start_response)
        try:
            return self.status, b"".join(response)
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()


def _discard(data: bytes) -> object:
    return None
