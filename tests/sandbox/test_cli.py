"""``python -m authonomy_integrations.sandbox`` prints what a developer needs, then serves."""

from __future__ import annotations

import subprocess
import sys

import httpx

from authonomy_integrations.sandbox import FULL_API_KEY, READ_ONLY_API_KEY

from ..conftest import free_port, wait_for_port


def _banner(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("export AUTHONOMY_CUSTOMER_ID"):
        line = process.stdout.readline()
        assert line, "the CLI exited before printing its banner"
        lines.append(line.strip())
    return lines


def test_cli_prints_urls_keys_users_and_exports_then_serves() -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with subprocess.Popen(
        [sys.executable, "-m", "authonomy_integrations.sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            lines = _banner(process)
            wait_for_port(port)
            discovery = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
        finally:
            process.terminate()
            process.wait(timeout=10)
    text = "\n".join(lines)
    assert f"API URL:          {issuer}/v1" in text
    assert f"{issuer}/console" in text
    assert FULL_API_KEY in text and READ_ONLY_API_KEY in text
    assert "alice" in text and "bob" in text and "app_sandbox" in text
    assert f"export AUTHONOMY_API_BASE_URL={issuer}/v1" in lines
    assert f"export AUTHONOMY_ISSUER={issuer}" in lines
    assert f"export AUTHONOMY_API_KEY={FULL_API_KEY}" in lines
    assert discovery["issuer"] == issuer
