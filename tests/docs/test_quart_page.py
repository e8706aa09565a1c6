"""The Quart guide (``docs/frameworks/quart.md``) builds a working app: its ``python``
blocks, run in order in one namespace with the ``AUTHONOMY_*`` variables the sandbox
prints, make an app that signs a user in with ``login_as``, guards its routes, greets a
signed-in WebSocket and takes a webhook; the page's own test passes against it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.sandbox.__main__ import app_variables
from authonomy_integrations.testing import login_as, send_webhook

from .samples import python_blocks, run_page

PAGE = "frameworks/quart.md"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def page(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """The page's app, configured as a reader's would be after ``authonomy-sandbox``
    printed its variables (on the host Quart's test client calls)."""
    for name, value in app_variables(sandbox.issuer, "http://localhost").items():
        monkeypatch.setenv(name, value)
    # The page's last block is the reader's test_app.py, which imports their app.py:
    # the namespace the app blocks fill is importable as ``app`` meanwhile.
    module = types.ModuleType("app")
    monkeypatch.setitem(sys.modules, "app", module)
    module.__dict__["__name__"] = "quart_page"
    namespace = run_page(PAGE, tmp_path, module.__dict__)
    yield namespace
    asyncio.run(namespace["app"].extensions["authonomy"].aclose())


def test_the_page_has_a_block_for_each_part_it_explains() -> None:
    assert len(python_blocks(PAGE)) == 5


def test_the_pages_app_signs_alice_in_and_guards_its_routes(page: dict[str, Any]) -> None:
    client = page["app"].test_client()
    refused = asyncio.run(client.get("/profile", headers={"accept": "application/json"}))
    assert refused.status_code == 401
    assert login_as(client, "alice", next_path="/profile") == "/profile"
    profile = asyncio.run(client.get("/profile"))
    assert asyncio.run(profile.get_json())["id"] == "user_alice"
    assert asyncio.run(client.get("/admin")).status_code == 200  # alice signs in with MFA
    assert asyncio.run(client.get("/team")).status_code == 200  # a plain view, in a thread
    scoped = asyncio.run(client.get("/reports", headers={"accept": "application/json"}))
    assert scoped.status_code == 403


def test_the_pages_websocket_greets_a_bearer_user_and_closes_on_nobody(
    page: dict[str, Any], sandbox: Sandbox
) -> None:
    client = page["app"].test_client()
    bearer = {"authorization": f"Bearer {sandbox.issue_token('bob')}"}

    async def talk(headers: dict[str, str]) -> Any:
        async with client.websocket("/ws", headers=headers) as socket:
            return await socket.receive()

    assert asyncio.run(talk(bearer)) == "hello user_bob"
    with pytest.raises(WebsocketDisconnectError) as closed:
        asyncio.run(talk({}))
    assert closed.value.args[0] == 1008


def test_the_pages_webhook_handler_receives_a_signed_delivery(
    page: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    client = page["app"].test_client()
    delivered = send_webhook(client, "user.authenticated", {"user": {"id": "user_bob"}})
    assert delivered.status_code == 200
    # On the server's output, where the reader looks, whatever the logging setup.
    assert "webhook received: user.authenticated evt_" in capsys.readouterr().out


def test_the_pages_own_test_passes(page: dict[str, Any]) -> None:
    asyncio.run(page["test_profile_needs_a_sign_in"]())


def test_the_pages_test_file_passes_under_a_plain_pytest(sandbox: Sandbox, tmp_path: Path) -> None:
    """``app.py`` and ``test_app.py`` as the page lays them out, run by pytest with no
    async plugin but the ones the kit's ``testing`` extra installs."""
    *app_blocks, test_block = python_blocks(PAGE)
    (tmp_path / "app.py").write_text("\n\n".join(b.code for b in app_blocks))
    (tmp_path / "test_app.py").write_text(test_block.code)
    env = {**os.environ, **app_variables(sandbox.issuer, "http://127.0.0.1:5000")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:asyncio", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [*command, "test_app.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
