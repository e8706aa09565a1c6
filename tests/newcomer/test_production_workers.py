"""The FastAPI page's app leaving the demo: several uvicorn workers, configured only
from the environment.

The app is the page's ``app.py`` as written, run by a real ``uvicorn --workers 2``
whose only configuration is the ``AUTHONOMY_*`` variables the sandbox gives. With
``AUTHONOMY_REDIS_URL`` a user who signed in is served by either worker; without it each
worker logs an error that names the variable; and a missing variable stops the server
with a message that names it, instead of a server answering every request with a 500.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.sandbox.__main__ import app_variables
from authonomy_integrations.testing import login_as

from ..conftest import free_port, wait_for_port
from .test_first_contact import Output, readme_block, run

#: uvicorn's access log with the worker's process id, to see which worker answered.
ACCESS_LOG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"pid": {"format": "%(levelname)s pid=%(process)d %(message)s"}},
    "handlers": {"out": {"class": "logging.StreamHandler", "formatter": "pid"}},
    "root": {"handlers": ["out"], "level": "INFO"},
}
#: Requests made until both workers have answered one; each on a new connection.
MAX_REQUESTS = 200


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory with the README's FastAPI ``app.py`` and the logging set-up."""
    (tmp_path / "app.py").write_text(readme_block("fastapi-app"))
    (tmp_path / "logging.json").write_text(json.dumps(ACCESS_LOG))
    return tmp_path


def _environment(sandbox: Sandbox, port: int, **more: str) -> dict[str, str]:
    """The shell's environment plus the sandbox's variables for an app on ``port``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTHONOMY")}
    env.pop("WEB_CONCURRENCY", None)
    env.update(app_variables(sandbox.issuer, f"http://127.0.0.1:{port}"))
    env.update(more)
    return env


def _uvicorn(port: int, workers: int = 2) -> str:
    return (
        f"{sys.executable} -m uvicorn app:app --port {port} --workers {workers} "
        "--log-config logging.json"
    )


def _worker_of(output: Output, request: int) -> str:
    """The process id of the worker that answered ``/api/me?n={request}``."""
    line = output.wait_for(rf"GET /api/me\?n={request} HTTP/1\.1\" 200", timeout=10)
    match = re.search(r"pid=(\d+) ", line)
    assert match is not None, line
    return match.group(1)


def test_two_workers_from_the_environment_serve_a_signed_in_user_on_either(
    sandbox: Sandbox, work: Path, redis_url: str
) -> None:
    port = free_port()
    env = _environment(sandbox, port, AUTHONOMY_REDIS_URL=redis_url)
    with run(_uvicorn(port), work, env) as app:
        wait_for_port(port, timeout=30)
        app.wait_for(r"Application startup complete", timeout=30)
        headers = {"accept": "application/json"}
        # A new connection per request: the kernel hands each to either worker.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
            login_as(client, "alice")
            workers: set[str] = set()
            for request in range(MAX_REQUESTS):
                answer = client.get(f"/api/me?n={request}", headers=headers)
                assert answer.status_code == 200, answer.text
                assert answer.json() == {"id": "user_alice", "groups": ["admins", "engineering"]}
                workers.add(_worker_of(app, request))
                if len(workers) == 2:
                    break
        assert len(workers) == 2, f"one worker answered every request: {workers}"
        assert all("AUTHONOMY_REDIS_URL" not in line for line in app.lines), app.lines


def test_two_workers_without_redis_log_an_error_naming_the_variable(
    sandbox: Sandbox, work: Path
) -> None:
    port = free_port()
    with run(_uvicorn(port), work, _environment(sandbox, port)) as app:
        first = app.wait_for(r"^ERROR .*AUTHONOMY_REDIS_URL", timeout=30)
        assert "uvicorn --workers 2" in first and "signed out on the others" in first
        wait_for_port(port, timeout=30)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_missing_variable_stops_the_server_naming_it(
    sandbox: Sandbox, work: Path, workers: int
) -> None:
    # uvicorn's default lifespan mode: the middleware fails the start-up, which stops it.
    port = free_port()
    env = _environment(sandbox, port)
    del env["AUTHONOMY_SESSION_SECRET"]
    done = subprocess.run(
        _uvicorn(port, workers=workers).split(),
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    if workers == 1:
        assert done.returncode != 0, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert any(
        "session_secret (AUTHONOMY_SESSION_SECRET): is required" in line for line in errors
    ), output
    assert "Traceback" not in output, output
