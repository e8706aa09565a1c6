"""The guides' samples, run as programs; each page's test then drives what it built."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from starlette.testclient import TestClient
from werkzeug.middleware.proxy_fix import ProxyFix

from authonomy_integrations.flask import Authonomy
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore, RedisSessionStore
from authonomy_integrations.testing import login_as, send_webhook

from .samples import run_page, run_page_in_process

TENANTS = "https://myapp.example,https://{customer}.myapp.example"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_testing_page_runs(sandbox_env: Sandbox, tmp_path: Path) -> None:
    namespace = run_page("testing.md", tmp_path)
    assert namespace["config"].audience == sandbox_env.audience
    # The fixture-based test files are written as the reader writes them.
    assert (tmp_path / "test_fastapi_app.py").is_file()
    assert (tmp_path / "test_flask_app.py").is_file()


def test_guards_page_scopes_and_local_policy(sandbox_env: Sandbox, tmp_path: Path) -> None:
    namespace = run_page("guards.md", tmp_path)
    with TestClient(namespace["app"]) as client:
        granted = sandbox_env.issue_token("bob", scopes=["openid", "reports:read"])
        assert client.get("/reports", headers=bearer(granted)).json() == {"reports": []}
        refused = client.get("/reports", headers=bearer(sandbox_env.issue_token("bob")))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        admin = sandbox_env.issue_token("alice", mfa=True)
        assert client.get("/audit", headers=bearer(admin)).json() == {"entries": []}
        no_mfa = client.get("/audit", headers=bearer(sandbox_env.issue_token("alice", mfa=False)))
        assert no_mfa.json()["error"]["code"] == "POLICY_VIOLATED"


def test_sessions_page_lists_the_callers_sessions(sandbox_env: Sandbox, tmp_path: Path) -> None:
    namespace = run_page("sessions.md", tmp_path)
    assert isinstance(namespace["config"].session_store, MemorySessionStore)
    assert "TestMySessionStore" in namespace  # the contract, subclassed as shown
    with TestClient(namespace["app"]) as client:
        assert client.get("/invoices").status_code == 401  # guarded, before any call out
        login_as(client, "alice")
        (session,) = client.get("/auth/sessions").json()["sessions"]
        assert session["current"] is True


def test_webhooks_page_receiver_runs_its_handler_once(sandbox_env: Sandbox, tmp_path: Path) -> None:
    namespace = run_page("webhooks.md", tmp_path)
    with TestClient(namespace["app"]) as client:
        data = {"user": {"id": "user_bob"}, "session": {"id": "sess_1"}}
        for _ in range(2):  # the same id twice: a replay, acknowledged, not run again
            answer = send_webhook(client, "user.logged_out", data, event_id="evt_docs")
            assert answer.status_code == 200
        wrong = send_webhook(client, "user.logged_out", data, secret="whsec_b3RoZXI=")
        assert wrong.status_code == 400
    assert namespace["signed_out"] == ["user_bob"]


def test_workers_page_keeps_sessions_in_redis(
    sandbox_env: Sandbox, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    namespace = run_page("workers.md", tmp_path)
    assert isinstance(namespace["config"].session_store, RedisSessionStore)


@pytest.mark.parametrize("app_url", [TENANTS])
def test_production_page_runs_with_tenant_origins(
    sandbox_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flask_apps: list[Flask] = []  # the page's Flask app, whose name a later sample reuses
    init_app = Authonomy.init_app
    monkeypatch.setattr(
        Authonomy, "init_app", lambda self, app: (flask_apps.append(app), init_app(self, app))
    )
    try:
        run_page("production.md", tmp_path)
        login = sandbox_env.state.login_requests
        assert [r.return_url for r in login.values()][-1] == (
            "https://acme-corp.myapp.example/auth/callback"
        )
    finally:
        for app in flask_apps:
            app.extensions["authonomy"].close()
    assert isinstance(flask_apps[0].wsgi_app, ProxyFix)


def test_client_page_lists_customers_and_policies(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = run_page("client.md", tmp_path)
    assert "acme-corp" in namespace["active"]
    assert "require-mfa" in capsys.readouterr().out


def test_observability_page_runs_in_its_own_process(sandbox_env: Sandbox, tmp_path: Path) -> None:
    # OpenTelemetry's providers are set once per process: the page gets a process of its own.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH")])),
    }
    then = (
        "from starlette.testclient import TestClient\n"
        "with TestClient(app) as client:\n"
        "    client.get('/', headers={'authorization': 'Bearer not-a-token'})\n"
        "print(dict(refusals))\n"
    )
    output = run_page_in_process("observability.md", tmp_path, env, then=then)
    assert "token.refused" in output, output
