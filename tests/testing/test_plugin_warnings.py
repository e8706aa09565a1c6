"""A user's own test run, with the kit's plugin loaded, shows no warning the kit causes.

The run is a separate pytest process in a directory of its own (no settings of this
repository), in Python's development mode so that unclosed sockets are reported too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = """
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from authonomy_integrations import AuthonomyUser
from authonomy_integrations.flask import Authonomy
from authonomy_integrations.starlette import AuthonomyMiddleware, current_user
from authonomy_integrations.testing import login_as


def test_fastapi(authonomy_sandbox):
    config = authonomy_sandbox.config(app_url="http://localhost")
    app = FastAPI()
    app.add_middleware(AuthonomyMiddleware, config=config)

    @app.get("/me")
    async def me(user: AuthonomyUser = Depends(current_user)):
        return {"id": user.id}

    client = TestClient(app)
    login_as(client, "alice")
    assert client.get("/me").json() == {"id": "user_alice"}


def test_flask(authonomy_sandbox):
    app = Flask(__name__)
    Authonomy(app, config=authonomy_sandbox.config(app_url="http://localhost"))
    client = app.test_client()
    assert login_as(client, "bob") == "/"
"""


def test_users_test_run_has_no_warnings(tmp_path: Path) -> None:
    (tmp_path / "test_user_app.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "pytest", "-q", "-p", "no:asyncio",
         "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "2 passed" in output, output
    assert "warning" not in output.lower(), output
