"""Calling an ASGI app in-process: a prebuilt scope, an empty body, a discarding send.

The client behaves like a browser in one respect: when a response sets the session
cookie, later requests send the new value. Every variant pays for that check alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

_EMPTY_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}


def http_scope(
    path: str = "/api",
    *,
    bearer: str | None = None,
    cookie: tuple[str, str] | None = None,
    method: str = "GET",
) -> Scope:
    """The scope of ``GET path`` from 127.0.0.1, as uvicorn would build it."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"bench/1.0"),
        (b"accept", b"application/json"),
    ]
    if bearer is not None:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{cookie[0]}={cookie[1]}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _receive() -> Message:
    return _EMPTY_BODY


class Client:
    """Sends prebuilt scopes (cycled) to one app and keeps what a browser would keep."""

    def __init__(self, app: ASGIApp, scopes: Sequence[Scope]) -> None:
        self.app = app
        self.scopes = list(scopes)
        self.status = 0
        self.body = b""

    async def send(self, message: Message) -> None:
        """Discard the response, except a status and a new session cookie."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message["headers"]:
                if name == b"set-cookie":
                    self._store_cookie(value)

    def _store_cookie(self, header: bytes) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header.decode("latin-1"))
        for scope in self.scopes:
            headers = scope["headers"]
            for index, (name, value) in enumerate(headers):
                if name != b"cookie":
                    continue
                sent = value.decode("latin-1").split("=", 1)[0]
                if sent in jar and jar[sent].value:
                    headers[index] = (b"cookie", f"{sent}={jar[sent].value}".encode())

    async def timed(self, n: int) -> int:
        """Make ``n`` requests; nanoseconds spent."""
        app, scopes, send, count = self.app, self.scopes, self.send, len(self.scopes)
        start = time.perf_counter_ns()
        for i in range(n):
            await app(dict(scopes[i % count]), _receive, send)
        return time.perf_counter_ns() - start

    async def probe(self) -> tuple[int, bytes]:
        """One request with the body kept: the status and body the benchmark relies on."""
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            await self.send(message)
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(dict(self.scopes[0]), _receive, keep)
        return self.status, b"".join(chunks)
