"""A part of the kit whose optional dependency is missing says which extra to install,
and the parts a framework's users need run without the other frameworks' dependencies.

Each case runs in a fresh interpreter in which the dependency cannot be imported.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CASES = [
    ("uvicorn", "import authonomy_integrations.sandbox", "sandbox"),
    ("uvicorn", "from authonomy_integrations.testing import login_as", "testing"),
    ("starlette", "from authonomy_integrations.testing import login_as", "testing"),
    ("starlette", "import authonomy_integrations.sandbox", "sandbox"),
    ("starlette", "from authonomy_integrations.starlette import AuthonomyMiddleware", "starlette"),
    ("uvicorn", "from authonomy_integrations.sandbox.__main__ import main", "sandbox"),
    ("flask", "from authonomy_integrations.flask import Authonomy", "flask"),
    ("quart", "from authonomy_integrations.quart import Authonomy", "quart"),
    ("litestar", "from authonomy_integrations.litestar import AuthonomyPlugin", "litestar"),
    ("django", "from authonomy_integrations.django import AuthonomyMiddleware", "django"),
    (
        "rest_framework",
        "from authonomy_integrations.django.rest_framework import AuthonomyAuthentication",
        "drf",
    ),
    (
        "redis",
        "from authonomy_integrations.stores import RedisSessionStore\n"
        "RedisSessionStore('redis://127.0.0.1:6379/0')",
        "redis",
    ),
    (
        "redis",
        "from authonomy_integrations.stores._replay import RedisReplayStore\n"
        "RedisReplayStore('redis://127.0.0.1:6379/0')",
        "redis",
    ),
]


@pytest.mark.parametrize(("blocked", "code", "extra"), CASES)
def test_missing_dependency_names_the_extra(blocked: str, code: str, extra: str) -> None:
    # ``None`` in sys.modules makes every import of that module fail, as if not installed.
    script = f"import sys\nsys.modules[{blocked!r}] = None\n{code}\n"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, f"{code!r} worked without {blocked}"
    last_line = run.stderr.strip().splitlines()[-1]
    assert f"pip install 'authonomy-integrations[{extra}]'" in last_line, run.stderr


def test_missing_extra_error_is_an_import_error() -> None:
    from authonomy_integrations._errors import AuthonomyError, MissingExtraError

    error = MissingExtraError("authonomy_integrations.sandbox", "uvicorn", "sandbox")
    assert isinstance(error, ImportError) and isinstance(error, AuthonomyError)
    assert error.name == "uvicorn" and error.extra == "sandbox"


def test_the_sandbox_command_without_its_extra_says_so_in_one_line() -> None:
    script = (
        "import sys\nsys.modules['uvicorn'] = None\n"
        "from authonomy_integrations._sandbox_cli import main\nmain([])\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "authonomy-sandbox: authonomy_integrations.sandbox needs the 'uvicorn' package, which "
        "is not installed; install the 'sandbox' extra: "
        "pip install 'authonomy-integrations[sandbox]'"
    ]


PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower() for line in requirements}


@pytest.mark.parametrize("extra", ["flask", "django", "drf", "redis", "otel", "quart", "litestar"])
def test_starlette_is_not_installed_for_other_frameworks(extra: str) -> None:
    project = PYPROJECT["project"]
    assert "starlette" not in _names(project["dependencies"])
    assert "starlette" not in _names(project["optional-dependencies"][extra])


@pytest.mark.parametrize("extra", ["starlette", "fastapi", "sandbox"])
def test_the_extras_that_need_starlette_bring_it(extra: str) -> None:
    wanted = PYPROJECT["project"]["optional-dependencies"][extra]
    assert "starlette" in _names(wanted) or "authonomy-integrations[starlette]" in wanted


FLASK_WITHOUT_STARLETTE = """
import sys
sys.modules["starlette"] = None
from flask import Flask
from authonomy_integrations import AuthonomyConfig, AuthonomyClient
from authonomy_integrations.flask import Authonomy, login_required
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore
from authonomy_integrations.webhooks import WebhookReceiver

config = AuthonomyConfig(
    environment="sandbox", api_key="ak_x", audience="app_x", app_url="http://localhost",
    session_secret="s" * 40, webhook_secret="whsec_" + "a" * 32,
)
app = Flask("no_starlette")
Authonomy(app, config=config)

@app.get("/me")
@login_required
def me():
    return "signed in"

client = app.test_client()
assert client.get("/me", headers={"accept": "application/json"}).status_code == 401
assert client.post("/webhooks/authonomy", json={}).status_code == 400
print("flask ok")
"""

QUART_WITHOUT_STARLETTE = """
import asyncio
import sys
sys.modules["starlette"] = None
from quart import Quart
from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.quart import Authonomy, login_required

config = AuthonomyConfig(
    environment="sandbox", api_key="ak_x", audience="app_x", app_url="http://localhost",
    session_secret="s" * 40, webhook_secret="whsec_" + "a" * 32,
)
app = Quart("no_starlette")
Authonomy(app, config=config)

@app.get("/me")
@login_required
async def me():
    return "signed in"

async def main():
    client = app.test_client()
    me = await client.get("/me", headers={"accept": "application/json"})
    webhook = await client.post("/webhooks/authonomy", json={})
    assert (me.status_code, webhook.status_code) == (401, 400)

asyncio.run(main())
print("quart ok")
"""

DJANGO_WITHOUT_STARLETTE = """
import sys
sys.modules["starlette"] = None
import django
from django.conf import settings
from authonomy_integrations import AuthonomyConfig

settings.configure(
    ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__, SECRET_KEY="x" * 50,
    MIDDLEWARE=["authonomy_integrations.django.AuthonomyMiddleware"],
    AUTHONOMY_CONFIG=AuthonomyConfig(
        environment="sandbox", api_key="ak_x", audience="app_x",
        app_url="http://localhost", session_secret="s" * 40,
    ),
)
django.setup()
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from authonomy_integrations.django import login_required
from authonomy_integrations.django.rest_framework import AuthonomyAuthentication

urlpatterns = [path("me", login_required(lambda request: HttpResponse("signed in")))]
assert Client().get("/me", HTTP_ACCEPT="application/json").status_code == 401
print("django ok")
"""


@pytest.mark.parametrize(
    ("script", "done"),
    [
        (FLASK_WITHOUT_STARLETTE, "flask ok"),
        (DJANGO_WITHOUT_STARLETTE, "django ok"),
        (QUART_WITHOUT_STARLETTE, "quart ok"),
    ],
)
def test_flask_django_and_quart_apps_run_without_starlette(script: str, done: str) -> None:
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == done
