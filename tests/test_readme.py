"""The README's FastAPI and Flask snippets run as written, against the sandbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as

README = Path(__file__).resolve().parents[1] / "README.md"
WEBHOOK_SECRET = "whsec_cmVhZG1lLXNuaXBwZXQtc2VjcmV0LTAxMjM0NQ=="


def snippet(heading: str) -> str:
    """The first Python block after ``## heading`` in the README."""
    section = README.read_text().split(f"## {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no Python block under {heading!r}"
    return match.group(1)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, app_url: str) -> Iterator[Sandbox]:
    with Sandbox() as sb:
        for name, value in {
            "API_KEY": sb.api_key,
            "ENVIRONMENT": "sandbox",
            "API_BASE_URL": sb.api_base_url,
            "ISSUER": sb.issuer,
            "AUDIENCE": sb.audience,
            "APP_URL": app_url,
            "SESSION_SECRET": "s" * 40,
            "CUSTOMER_ID": "acme-corp",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }.items():
            monkeypatch.setenv(f"AUTHONOMY_{name}", value)
        yield sb


@pytest.mark.parametrize("app_url", ["http://localhost"])
def test_fastapi_snippet_signs_in_and_enforces_the_policy(environment: Sandbox) -> None:
    namespace: dict[str, Any] = {}
    exec(snippet("FastAPI / Starlette"), namespace)
    with TestClient(namespace["app"]) as client:
        assert client.get("/api/me").status_code == 401
        login_as(client, "alice")
        assert client.get("/api/me").json()["groups"] == ["admins", "engineering"]
        assert client.get("/admin").json() == {"ok": True}
        login_as(client, "bob")
        denied = client.get("/admin", headers={"accept": "application/json"})
        assert denied.json()["error"]["code"] == "POLICY_VIOLATED"


@pytest.mark.parametrize("app_url", ["http://localhost"])
def test_flask_snippet_signs_in_and_enforces_the_policy(environment: Sandbox) -> None:
    namespace: dict[str, Any] = {"__name__": __name__}
    exec(snippet("Flask"), namespace)  # complete: it builds its own config
    app = namespace["app"]
    client = app.test_client()
    login_as(client, "alice")
    assert client.get("/admin").get_json() == {"groups": ["admins", "engineering"]}
    login_as(client, "bob")
    assert client.get("/admin", headers={"accept": "application/json"}).status_code == 403
    app.extensions["authonomy"].close()
