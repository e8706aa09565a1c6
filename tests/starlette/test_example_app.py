"""``python -m examples.fastapi_app``: the demo starts, signs a user in and gets webhooks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from authonomy_integrations.sandbox import Sandbox, hosted_login
from examples.fastapi_app.__main__ import build_config

from ..browsing import browser, start_login
from ..conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHONOMY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.fastapi_app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.strip() == f"Open http://127.0.0.1:{port} in your browser."
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (a webhook is delivered asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def test_demo_signs_in_and_lists_the_login_webhook(demo: str) -> None:
    with browser(demo) as http:
        assert "Sign in" in http.get("/").text
        callback = hosted_login(http, start_login(http, next="/profile"), user="bob")
        assert http.get(callback).headers["location"] == "/profile"
        assert "engineering" in http.get("/profile").text
        _until(lambda: "user.authenticated" in http.get("/webhooks").text)


def test_environment_overrides_the_sandbox_settings(sb: Sandbox) -> None:
    environ = {"AUTHONOMY_CUSTOMER_ID": "globex", "AUTHONOMY_SESSION_SECRET": "x" * 40}
    config = build_config(environ, "http://127.0.0.1:8000", sb)
    assert config.customer_id == "globex"
    assert config.session_secrets == ("x" * 40,)
    assert config.api_base_url == sb.api_base_url
    assert config.webhook_secrets[0].startswith("whsec_")


def test_real_tenant_comes_from_the_environment_alone() -> None:
    environ = {
        "AUTHONOMY_API_KEY": "ak_live_example",
        "AUTHONOMY_AUDIENCE": "app_live",
        "AUTHONOMY_CUSTOMER_ID": "acme-corp",
    }
    config = build_config(environ, "http://127.0.0.1:8000", None)
    assert config.api_key == "ak_live_example"
    assert config.resolved_issuer == "https://auth.authonomy.io"
    assert config.app_url == "http://127.0.0.1:8000"
    assert config.webhook_secrets == ()
