"""The getting-started pages: each page's app, built from its samples, signs in and
guards its routes; its test file passes.

The same samples run in ``tests/newcomer`` as a newcomer runs them (files, commands, a
browser); here they run in this process, quickly, for every change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as, send_webhook

from .samples import python_blocks, run_page

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}


def test_fastapi_pages_starlette_app_signs_in_and_guards_its_endpoints(
    sandbox_env: Sandbox,
) -> None:
    (code,) = [b.code for b in python_blocks("frameworks/fastapi.md") if "Starlette(" in b.code]
    namespace: dict[str, Any] = {"__name__": "starlette_app"}
    exec(compile(code, "fastapi.md, the Starlette block", "exec"), namespace)
    with TestClient(namespace["app"]) as client:
        assert client.get("/api/me").status_code == 401
        login_as(client, "bob")
        assert client.get("/api/me").json() == {"id": "user_bob", "groups": ["engineering"]}
        assert client.get("/admin", headers=JSON).status_code == 403  # bob: no MFA
        login_as(client, "alice")
        assert client.get("/admin").json() == {"ok": True}


def test_fastapi_page_app_signs_in_and_guards_its_routes(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    namespace = run_page("frameworks/fastapi.md", tmp_path)
    namespace["test_admin_needs_mfa"]()  # the page's own test file
    with TestClient(namespace["app"]) as client:
        assert client.get("/", headers=HTML, follow_redirects=False).status_code == 302
        assert client.get("/api/audit").status_code == 401
        login_as(client, "bob")
        assert client.get("/team").json() == {"team": "engineering"}
        assert client.get("/api/audit").status_code == 403  # bob is not an admin
        login_as(client, "alice")
        assert "Signed in as alice@acme-corp.com" in client.get("/").text
        assert client.get("/api/admin").json() == {"ok": True}
        data = {"user": {"id": "user_alice"}, "session": {"id": "sess_1"}}
        assert send_webhook(client, "user.authenticated", data).status_code == 200


def test_flask_page_app_signs_in_and_guards_its_routes(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    namespace = run_page("frameworks/flask.md", tmp_path)
    app = namespace["app"]
    try:
        namespace["test_admin_needs_mfa"]()  # the page's own test file
        client = app.test_client()
        assert client.get("/", headers=HTML).status_code == 302
        login_as(client, "bob")
        assert client.get("/admin", headers=JSON).status_code == 403
        assert client.get("/team").get_json() == {"team": "engineering"}
        data = {"user": {"id": "user_bob"}, "session": {"id": "sess_1"}}
        assert send_webhook(client, "user.authenticated", data).status_code == 200
    finally:
        app.extensions["authonomy"].close()
