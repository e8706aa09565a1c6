"""The Django page's project and the testing page's fixture-based tests, run as a newcomer
runs them.

Outside the repository, ``django-admin startproject`` makes the project, the page's
``settings.py``, ``views.py`` and ``urls.py`` replace its files, ``authonomy-sandbox``
writes the ``.env`` they read, and the Django page's commands check it and serve it with
``runserver``, uvicorn and gunicorn: a browser is sent to sign in, an API call gets 401,
Alice signs in and sees her pages, the login webhook and the kit's INFO events show in
the app's output, and every request line of the sandbox says it is the sandbox's. The
documentation's test files (FastAPI and Flask with an app factory, Django with
``override_settings``) then pass with ``login_as``, ``issue_token`` and
``send_webhook``.

The packages come from the test run's own environment (the install lines' extras are
checked against ``pyproject.toml``); ``test_first_contact`` walks the install itself.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from authonomy_integrations.testing import login_as

from ..conftest import free_port, wait_for_port
from .test_first_contact import ROOT, Output, adapted, readme_block, run

LOAD_ENV = "set -a; . ./.env; set +a"
#: pytest-asyncio is in the test environment, not in a newcomer's: its warning about
#: its own settings is not the README's.
PYTEST = "pytest -q -p no:cacheprovider -p no:asyncio"


def environment(home: Path) -> dict[str, str]:
    """This run's interpreter and the checkout's code, nothing of the caller's settings."""
    keep = ("LANG", "LC_ALL", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        PYTHONPATH=str(ROOT / "src"),
        HOME=str(home),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def shell(command: str, work: Path, env: dict[str, str], timeout: float = 180) -> str:
    """``command`` in bash in ``work``; its output, which must end with status 0."""
    done = subprocess.run(
        ["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def run_readme_tests(work: Path, env: dict[str, str], files: list[str], passed: int) -> None:
    output = shell(f"{PYTEST} {' '.join(files)}", work, env)
    assert f"{passed} passed" in output, output
    assert "warning" not in output.lower(), output


def test_readme_install_line_for_django_names_declared_extras() -> None:
    words = shlex.split(readme_block("install-django"))
    assert words[:2] == ["pip", "install"]
    extras = re.fullmatch(r"authonomy-integrations\[(.*)\]", words[2])
    assert extras is not None, words
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(extras.group(1).split(",")) <= set(declared["optional-dependencies"])


def test_readme_fixture_tests_pass_without_a_sandbox_running(tmp_path: Path) -> None:
    for kind in ("fastapi", "flask"):
        (tmp_path / f"test_{kind}_app.py").write_text(readme_block(f"{kind}-fixture-test"))
    env = environment(tmp_path)
    run_readme_tests(tmp_path, env, ["test_fastapi_app.py", "test_flask_app.py"], passed=5)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, Output]]:
    """The README's Django project, with the sandbox running for it: dir, port, output."""
    work = tmp_path_factory.mktemp("django-newcomer")
    assert ROOT not in work.parents, "the newcomer works outside the repository"
    env = environment(work)
    port = free_port()
    with run(adapted(readme_block("sandbox"), port).strip() + " --port 0", work, env) as sandbox:
        sandbox.wait_for(r"^export AUTHONOMY_WEBHOOK_SECRET=")
        shell(readme_block("django-project"), work, env)
        for name in ("settings", "views", "urls"):
            (work / "mysite" / f"{name}.py").write_text(readme_block(f"django-{name}"))
        yield work, port, sandbox
    requests = [line for line in sandbox.lines if re.search(r'"(GET|POST) /', line)]
    assert requests, "the sandbox logged no request"
    assert all(line.startswith("[sandbox] ") for line in requests), requests


def sign_in_and_look_around(app_url: str, app: Output) -> None:
    """What a newcomer checks first: the answers before and after Alice signs in."""
    with httpx.Client(base_url=app_url, timeout=10) as client:
        page = client.get("/", headers={"accept": "text/html"})
        assert page.status_code == 302, "a browser is sent to sign in"
        assert client.get("/api/me").status_code == 401, "an API call is not redirected"
        login_as(client, "alice")
        assert "Signed in as alice@acme-corp.com" in client.get("/").text
        assert client.get("/admin").json() == {"groups": ["admins", "engineering"]}
        assert client.get("/team").json() == {"team": "engineering"}
        assert client.get("/api/me").json()["id"] == "user_alice"
        assert client.get("/api/audit").json() == {"entries": []}
    app.wait_for(r"webhook received: user\.authenticated evt_")
    app.wait_for(r"^login\.completed ")  # the kit's INFO events, as settings.LOGGING says


@pytest.mark.timeout(300)
@pytest.mark.parametrize("block", ["django-run", "django-run-asgi", "django-run-wsgi"])
def test_readme_django_project_serves_and_signs_in(
    project: tuple[Path, int, Output], block: str
) -> None:
    work, port, _ = project
    command = readme_block(block)
    if LOAD_ENV not in command:  # the server lines run where the variables are loaded
        command = f"{LOAD_ENV}\n{command}"
    with run(adapted(command, port), work, environment(work)) as app:
        if block == "django-run":
            app.wait_for(r"System check identified no issues")
        wait_for_port(port, timeout=60)
        sign_in_and_look_around(f"http://127.0.0.1:{port}", app)


@pytest.mark.timeout(300)
def test_readme_django_tests_pass(project: tuple[Path, int, Output]) -> None:
    work, _, _ = project
    (work / "conftest.py").write_text(readme_block("django-conftest"))
    (work / "test_views.py").write_text(readme_block("django-test"))
    env = environment(work)
    output = shell(f"{LOAD_ENV}; {PYTEST} test_views.py", work, env)
    assert "3 passed" in output, output
    assert "warning" not in output.lower(), output


@pytest.mark.timeout(300)
def test_readme_logging_line_shows_the_kits_info_events(
    project: tuple[Path, int, Output],
) -> None:
    work, port, _ = project
    (work / "app.py").write_text(readme_block("logging") + readme_block("fastapi-app"))
    command = adapted(readme_block("fastapi-run"), port)
    with run(command, work, environment(work)) as app:
        wait_for_port(port, timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            login_as(client, "bob")
        app.wait_for(r"^INFO:authonomy_integrations\.login:login\.completed ")
