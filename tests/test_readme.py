"""The README fits a screen or two, its example runs against the sandbox, and its
links lead to pages that exist."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as

from .docs.samples import ROOT, app_url, python_blocks, sandbox_env

README = ROOT / "README.md"

__all__ = ["app_url", "sandbox_env"]  # the docs' fixtures, used here too


def test_the_readme_is_under_250_lines() -> None:
    assert len(README.read_text().splitlines()) < 250


def test_the_readme_links_to_files_that_exist() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert targets, "the README links into the documentation"
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert not missing, missing


def test_the_readme_example_signs_in_and_enforces_the_policy(sandbox_env: Sandbox) -> None:
    (example,) = python_blocks(README)
    namespace: dict[str, Any] = {}
    exec(example.code, namespace)
    with TestClient(namespace["app"]) as client:
        assert client.get("/api/me").status_code == 401
        page = client.get("/api/me", headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 302
        login_as(client, "alice")
        assert client.get("/api/me").json()["groups"] == ["admins", "engineering"]
        assert client.get("/admin").json() == {"ok": True}
        login_as(client, "bob")
        denied = client.get("/admin", headers={"accept": "application/json"})
        assert denied.json()["error"]["code"] == "POLICY_VIOLATED"


def test_the_readme_names_commands_that_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"`make ([\w-]+)", README.read_text()):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
