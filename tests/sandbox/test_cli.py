"""``authonomy-sandbox`` prints a complete configuration, writes it, subscribes the app.

An app configured with nothing but the printed variables signs users in, passes a
step-up to MFA and receives webhooks.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from flask import Flask

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.flask import Authonomy, current_user, require_policy
from authonomy_integrations.sandbox import FULL_API_KEY, READ_ONLY_API_KEY
from authonomy_integrations.testing import login_as
from authonomy_integrations.webhooks import WebhookEvent

from ..conftest import free_port, wait_for_port
from ..serving import bound_socket, serve_wsgi, url_of

LAST_VARIABLE = "AUTHONOMY_WEBHOOK_SECRET"


@contextmanager
def sandbox_cli(*args: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Run the CLI on a free port; yield its banner lines and the variables it exports."""
    port = free_port()
    command = [sys.executable, "-m", "authonomy_integrations.sandbox", "--port", str(port)]
    with subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            lines = _banner(process)
            wait_for_port(port)
            exports = dict(
                line.removeprefix("export ").split("=", 1)
                for line in lines
                if line.startswith("export ")
            )
            yield lines, exports
        finally:
            process.terminate()
            process.wait(timeout=10)


def _banner(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith(f"export {LAST_VARIABLE}="):
        line = process.stdout.readline()
        assert line, "the CLI exited before printing its banner"
        lines.append(line.strip())
    return lines


def test_cli_prints_urls_keys_users_and_every_variable_then_serves() -> None:
    with sandbox_cli() as (lines, exports):
        issuer = exports["AUTHONOMY_ISSUER"]
        discovery = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    text = "\n".join(lines)
    assert f"API URL:          {issuer}/v1" in text
    assert f"{issuer}/console" in text
    assert FULL_API_KEY in text and READ_ONLY_API_KEY in text
    assert "alice" in text and "bob" in text and "app_sandbox" in text
    assert discovery["issuer"] == issuer
    assert exports["AUTHONOMY_API_BASE_URL"] == f"{issuer}/v1"
    assert exports["AUTHONOMY_API_KEY"] == FULL_API_KEY
    assert exports["AUTHONOMY_APP_URL"] == "http://127.0.0.1:8000", "the demo's address"
    assert "none subscribed" in text
    # Complete: the configuration it reads starts an app with browser logins.
    config = AuthonomyConfig.from_env(exports)
    config.check_logins()
    assert config.webhook_secrets and config.customer_id == "acme-corp"


def test_cli_generates_fresh_secrets_each_run() -> None:
    with sandbox_cli() as (_, first):
        pass
    with sandbox_cli() as (_, second):
        pass
    for name in ("AUTHONOMY_SESSION_SECRET", "AUTHONOMY_WEBHOOK_SECRET"):
        assert first[name] != second[name], name
    assert len(first["AUTHONOMY_SESSION_SECRET"]) >= 32


def test_cli_writes_the_same_variables_to_an_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    with sandbox_cli("--env-file", str(env_file)) as (_, exports):
        written = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert written == exports
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600, "secrets: owner only"


def test_cli_rejects_an_app_url_with_a_path() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "authonomy_integrations.sandbox", "--app-url", "http://127.0.0.1:8000/app"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0
    assert "--app-url" in run.stderr and "origin" in run.stderr


def test_cli_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "authonomy_integrations.sandbox", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "--port" in run.stderr
    assert "Traceback" not in run.stderr


def _app(config: AuthonomyConfig, received: list[WebhookEvent], arrived: threading.Event) -> Flask:
    app = Flask("from_printed_variables")
    authonomy = Authonomy(app, config=config)

    @authonomy.webhooks.on_any
    def remember(event: WebhookEvent) -> None:
        received.append(event)
        arrived.set()

    @app.get("/admin")
    @require_policy("require-mfa")
    def admin() -> dict[str, str]:
        return {"email": current_user.email or ""}

    return app


def test_app_from_printed_variables_signs_in_steps_up_and_gets_webhooks() -> None:
    sock = bound_socket()
    app_url = url_of(sock)
    with sandbox_cli("--app-url", app_url) as (lines, exports):
        assert f"Webhooks:         {app_url}/webhooks/authonomy" in "\n".join(lines)
        assert exports["AUTHONOMY_APP_URL"] == app_url
        received: list[WebhookEvent] = []
        arrived = threading.Event()
        app = _app(AuthonomyConfig.from_env(exports), received, arrived)
        close = app.extensions["authonomy"].close
        with serve_wsgi(app, sock, close=close) as url, httpx.Client(base_url=url) as client:
            assert login_as(client, "bob", next_path="/admin") == "/admin"
            admin = client.get("/admin", headers={"accept": "text/html"})
            assert admin.status_code == 302, "Bob has no MFA: the admin page asks for a step-up"
            assert "step_up=require-mfa" in admin.headers["location"]
            login_as(client, "alice")
            assert client.get("/admin").json() == {"email": "alice@acme-corp.com"}
            assert arrived.wait(10), "no webhook arrived"
    assert "user.authenticated" in {event.type for event in received}


def test_cli_log_lines_say_they_are_the_sandboxs() -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "authonomy_integrations.sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stderr is not None
            first = process.stderr.readline()
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert first.startswith("[sandbox] "), first
