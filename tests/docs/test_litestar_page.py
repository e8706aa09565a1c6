"""The Litestar guide (docs/frameworks/litestar.md) runs as written: its Python blocks,
executed in order in one namespace with a sandbox's ``AUTHONOMY_*`` variables set, build
an app that signs a user in and guards its routes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar.testing import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.sandbox.__main__ import app_variables
from authonomy_integrations.testing import login_as

from .samples import python_blocks, run_page

PAGE = "frameworks/litestar.md"
APP_URL = "http://127.0.0.1:8000"


@pytest.fixture
def own_logging() -> Iterator[None]:
    """The page's app keeps Litestar's default logging, which configures the root logger
    when the app starts: put it back for the tests that run after this one."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def page_namespace(
    monkeypatch: pytest.MonkeyPatch, own_logging: None, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """The namespace the page's blocks leave, run against a fresh sandbox."""
    with Sandbox() as sb:
        for name, value in app_variables(sb.issuer, APP_URL).items():
            monkeypatch.setenv(name, value)
        # A module of its own: Litestar reads a handler's annotations through its module.
        module = ModuleType("litestar_page")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        namespace = module.__dict__
        assert len(python_blocks(PAGE)) >= 6, "the page shows its code in ```python blocks"
        yield run_page(PAGE, tmp_path, namespace)


def test_the_pages_app_signs_in_and_guards_its_routes(page_namespace: dict[str, Any]) -> None:
    app, config = page_namespace["app"], page_namespace["config"]
    with TestClient(app, base_url=config.app_url) as client:
        client.follow_redirects = False
        assert client.get("/admin", headers={"accept": "application/json"}).status_code == 401
        login_as(client, "bob")
        assert client.get("/profile").json() == {"id": "user_bob", "email": "bob@acme-corp.com"}
        assert client.get("/api/me").json() == {"id": "user_bob", "groups": ["engineering"]}
        assert client.get("/staff").status_code == 403
        # As a browser's page on the app's origin: the cookie signs a handshake in only
        # with its Origin (a test client sends none by itself).
        own = {"origin": config.app_url}
        with client.websocket_connect("/ws", headers=own) as socket:
            assert socket.receive_json() == {"user": "user_bob"}


def test_the_pages_own_test_passes(page_namespace: dict[str, Any]) -> None:
    page_namespace["test_profile_is_for_signed_in_users"]()
    assert page_namespace["signed_in"], "the page's webhook handler ran"
