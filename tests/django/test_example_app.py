"""``python -m examples.django_app`` (``make demo-django``): the demo starts under waitress
or uvicorn with an embedded sandbox, signs a user in and lists the login webhook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from authonomy_integrations.sandbox import hosted_login
from tests.browsing import browser
from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["wsgi", "asgi"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHONOMY_", "DJANGO_"))}
    command = [sys.executable, "-m", "examples.django_app", "--port", str(port)]
    if request.param == "asgi":
        command.append("--asgi")
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
    # Every log line says whether the app or the embedded sandbox wrote it.
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
        assert "Nobody is signed in" in http.get("/").text
        start = http.get("/auth/login", params={"next": "/profile"})
        callback = hosted_login(http, start.headers["location"], user="bob")
        assert http.get(callback).headers["location"] == "/profile"
        assert "engineering" in http.get("/profile").text
        _until(lambda: "user.authenticated" in http.get("/webhooks").text)
