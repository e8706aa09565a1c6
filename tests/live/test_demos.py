"""``python -m examples.<app>`` (``make demo-*``): each demo starts with an embedded sandbox
under its own server, signs a user in, lists the login webhook, and every log line says
whether the app or the sandbox wrote it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..adapters import ADAPTERS, Adapter
from ..browsing import browser, complete, start_login
from ..conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=ADAPTERS, ids=str)
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHONOMY_", "DJANGO_"))}
    adapter: Adapter = request.param
    command = [sys.executable, "-m", *adapter.demo, "--port", str(port)]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == f"Open http://127.0.0.1:{port} in your browser.", first
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert any(line.startswith("[app]") for line in lines), lines
    assert all(line.startswith(("[app]", "[sandbox]")) for line in lines), lines


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (a webhook is delivered asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def test_demo_signs_in_and_lists_the_login_webhook(demo: str) -> None:
    with browser(demo) as http:
        home = http.get("/").text
        assert "Nobody is signed in" in home and "Sign in" in home
        callback = complete(http, start_login(http, next="/profile"), "bob")
        assert callback.headers["location"] == "/profile"
        assert "engineering" in http.get("/profile").text
        _until(lambda: "user.authenticated" in http.get("/webhooks").text)
