"""A webhook receiver on 127.0.0.1 for the sandbox's deliveries: records each request,
answers ``status``, or 500 to the next ``failures[path]`` requests of a path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the receiver got, and how it answers (tests change ``status``, ``failures``)."""

    base_url: str
    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 204
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def on(self, path: str) -> str:
        """The receiver's URL for ``path``."""
        return f"{self.base_url}{path}"

    def wait_for(self, count: int) -> list[Received]:
        """Block until ``count`` requests arrived; all of them, in order."""
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.received) >= count, 10)
            return list(self.received)

    def answer(self, request: Received) -> int:
        """Record ``request``; the status to answer it with."""
        with self.lock:
            self.received.append(request)
            self.lock.notify_all()
            failing = self.failures.get(request.path, 0)
            self.failures[request.path] = max(failing - 1, 0)
        return 500 if failing else self.status


@contextmanager
def receiving(path: str = "") -> Iterator[Receiver]:
    """A threaded HTTP receiver until the block ends; its ``url`` is for ``path``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    state = Receiver(base_url, f"{base_url}{path}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = state.answer(Received(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
