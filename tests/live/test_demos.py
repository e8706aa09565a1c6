"""``python -m examples.<app>`` (``make demo-*``): each demo starts with an embedded sandbox
under its own server on the port it is given, signs a user in, lists the login webhook,
every log line says whether the app or the sandbox wrote it, and SIGTERM stops it
cleanly, also where SIGINT is ignored (``make test`` as a background job or under
``nohup``)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..adapters import ADAPTERS, Adapter
from ..browsing import browser, complete, start_login
from ..conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]

#: A request line of the sandbox's: its API, hosted pages and keys.
SANDBOX_REQUEST = re.compile(r'"(GET|POST) /(v1/|authorize|\.well-known/)')

#: The make target of each demo.
TARGETS = {"examples.fastapi_app": "demo", "examples.flask_app": "demo-flask",
           "examples.django_app": "demo-django", "examples.quart_app": "demo-quart",
           "examples.litestar_app": "demo-litestar"}  # fmt: skip


def _environment() -> dict[str, str]:
    """This process's environment without the kit's settings, and with Python's fault
    handler on, so that a demo which hangs on SIGTERM can be made to say where."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHONOMY_", "DJANGO_"))}
    return {**env, "PYTHONFAULTHANDLER": "1"}


def _terminate(process: subprocess.Popen[Any], log: Path | None) -> int:
    """SIGTERM, not SIGINT (a background job's children ignore SIGINT); the exit status.

    A demo still running 20 s later fails the test with every thread's stack, which the
    fault handler writes to its stderr on SIGABRT."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stacks = log.read_text(errors="replace")[-20_000:] if log is not None else ""
        raise AssertionError(f"the demo did not stop within 20 s of SIGTERM:\n{stacks}") from None
    finally:
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(params=ADAPTERS, ids=str)
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "stderr.log"
    env = _environment()
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
        status = _terminate(process, log)
    assert status == 0, f"the demo did not stop cleanly: {log.read_text()}"
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert any(line.startswith("[app]") for line in lines), lines
    assert all(line.startswith(("[app]", "[sandbox]")) for line in lines), lines
    # The sandbox's server logs its requests on the same uvicorn loggers as an app's.
    sandbox_requests = [line for line in lines if SANDBOX_REQUEST.search(line)]
    assert sandbox_requests, lines
    assert all(line.startswith("[sandbox]") for line in sandbox_requests), sandbox_requests


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


#: Runs the rest of its command line with SIGINT ignored, as a background job's children
#: and ``nohup``'s start (an ignored signal stays ignored across exec).
IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@pytest.mark.parametrize("module", sorted(TARGETS))
def test_a_demo_started_with_sigint_ignored_stops_on_sigterm(module: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "stderr.log"
    command = [sys.executable, "-c", IGNORING_SIGINT, sys.executable, "-m", module]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=_environment(),
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        wait_for_port(port, timeout=30)
    finally:
        status = _terminate(process, log)
    assert status == 0, log.read_text()


def test_make_demo_passes_port_to_every_demo() -> None:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    targets = [TARGETS[module] for module in sorted(TARGETS)]
    venv = Path(sys.prefix)
    done = subprocess.run(
        [make, "-n", "-o", f"{venv}/bin/.installed", *targets, "PORT=8123", f"VENV={venv}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    commands = re.findall(r"-m (examples\.\w+) --port 8123$", done.stdout, re.MULTILINE)
    assert commands == sorted(TARGETS), done.stdout
