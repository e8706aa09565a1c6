"""A newcomer's first hour, walked as the getting-started pages of the documentation
(``docs/frameworks/``) tell it, on every run of the suite.

A fresh virtual environment outside the repository gets the package from this checkout
through the pages' install lines; ``authonomy-sandbox`` runs as its own process, and
only what it prints (and the ``.env`` it writes) configures the apps; the pages'
FastAPI and Flask apps run from files with the pages' commands; a person signs in
through the hosted pages in Chromium (Alice with her code, Bob through a step-up), the
pages' tests sign in with ``login_as`` and run free of warnings, and a webhook
arrives. Any drift between the documentation and the code fails here.

The seconds from an empty directory to a signed-in page are printed; the FastAPI page
quotes them.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from authonomy_integrations.sandbox import SANDBOX_MFA_CODE
from tests.browser.chromium import launch_chromium

from ..conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_PORT = "8000"
LAST_VARIABLE = "AUTHONOMY_WEBHOOK_SECRET"


def readme_block(name: str) -> str:
    """The fenced block right after ``<!-- newcomer: name -->`` in the README or a page
    of the documentation (``docs/``): each is marked in exactly one place."""
    pattern = rf"<!-- newcomer: {re.escape(name)} -->\n```\w*\n(.*?)```"
    texts = [path.read_text() for path in [README, *sorted((ROOT / "docs").rglob("*.md"))]]
    found = [match.group(1) for text in texts for match in re.finditer(pattern, text, re.DOTALL)]
    assert len(found) == 1, f"{len(found)} blocks marked {name!r} in the README and docs/"
    return found[0]


class Output:
    """The lines a process prints, collected by a thread, waited for by the test."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        stream.close()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        """The first line matching ``pattern``; fails with all output after ``timeout``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if regex.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    text = "\n".join(self.lines)
                    raise AssertionError(f"no line matches {pattern!r}; output:\n{text}")
                self._changed.wait(left)


@contextmanager
def run(command: str, cwd: Path, env: dict[str, str]) -> Iterator[Output]:
    """``command`` in bash, as a user would type it; stopped, with its children, after."""
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield Output(process.stdout)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def user_environment(venv: Path, home: Path) -> dict[str, str]:
    """A shell environment with the fresh venv active and nothing of this repository's."""
    keep = ("LANG", "LC_ALL", "TMPDIR", "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        VIRTUAL_ENV=str(venv),
        HOME=str(home),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    # pip's own cache stays where it is: a newcomer's second venv uses it too.
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    return env


def install(line: str, env: dict[str, str], cwd: Path) -> None:
    """The README's install line, with this checkout in place of the published name."""
    words = shlex.split(line.strip())
    assert words[:2] == ["pip", "install"], line
    words = [w.replace("authonomy-integrations[", f"{ROOT}[", 1) for w in words]
    assert any(w.startswith(f"{ROOT}[") for w in words), f"no extras in {line!r}"
    done = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def adapted(command: str, port: int) -> str:
    """A README command for this run: the app on a free port instead of 8000."""
    return command.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}").replace(
        f"--port {README_PORT}", f"--port {port}"
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


def sign_in_alice(chromium: Any, app_url: str, issuer: str) -> str:
    """Alice signs in from the app's home page; the text of the page she lands on."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{app_url}/")
    assert page.url.startswith(issuer), "a signed-out visit goes to the sign-in page"
    page.get_by_role("button", name="Alice Anderson").click()
    page.get_by_label("One-time code").fill(SANDBOX_MFA_CODE)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{app_url}/")
    text = str(page.locator("h1").inner_text())
    context.close()
    return text


def bob_steps_up(chromium: Any, app_url: str) -> str:
    """Bob signs in without MFA, opens the admin page, gives the code: its text."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{app_url}/")
    page.get_by_role("button", name="Bob Brown").click()
    page.wait_for_url(f"{app_url}/")
    page.goto(f"{app_url}/admin")  # require-mfa: sign in again, with the code
    page.get_by_role("button", name="Bob Brown").click()
    page.get_by_label("One-time code").fill(SANDBOX_MFA_CODE)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{app_url}/admin")
    text = str(page.locator("body").inner_text())
    context.close()
    return text


def run_readme_tests(kind: str, work: Path, env: dict[str, str]) -> None:
    """The README's test file for ``kind``, run with pytest as the README says."""
    (work / "test_app.py").write_text(readme_block(f"{kind}-test"))
    command = "set -a; . ./.env; set +a; pytest -q -p no:cacheprovider test_app.py"
    done = subprocess.run(
        ["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "1 passed" in output, output
    assert "warning" not in output.lower(), output


#: What Bob sees on the admin page of each README app once he has stepped up.
ADMIN_PAGE = {"fastapi": '{"ok":true}', "flask": '{"groups":["engineering"]}'}


def walk_app(
    kind: str, work: Path, env: dict[str, str], port: int, issuer: str, chromium: Any
) -> float:
    """Run the README's ``kind`` app; sign in, step up, get a webhook, run its tests.

    Returns when Alice's signed-in page appeared (``time.monotonic()``).
    """
    (work / "app.py").write_text(readme_block(f"{kind}-app"))
    app_url = f"http://127.0.0.1:{port}"
    with run(adapted(readme_block(f"{kind}-run"), port), work, env) as app:
        wait_for_port(port, timeout=30)
        heading = sign_in_alice(chromium, app_url, issuer)
        signed_in = time.monotonic()
        assert heading == "Signed in as alice@acme-corp.com"
        app.wait_for(r"webhook received: user\.authenticated evt_")
        admin = bob_steps_up(chromium, app_url)
        assert re.sub(r"\s", "", admin) == ADMIN_PAGE[kind], admin
        run_readme_tests(kind, work, env)
    return signed_in


@pytest.mark.timeout(900)
def test_readme_path_from_pip_install_to_a_signed_in_page(
    tmp_path_factory: pytest.TempPathFactory, chromium: Any
) -> None:
    work = tmp_path_factory.mktemp("newcomer")
    assert ROOT not in work.parents, "the newcomer works outside the repository"
    started = time.monotonic()
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = user_environment(venv, work)
    install(readme_block("install-fastapi"), env, work)

    port = free_port()
    sandbox_command = adapted(readme_block("sandbox"), port).strip() + " --port 0"
    with run(sandbox_command, work, env) as sandbox:
        sandbox.wait_for(rf"^export {LAST_VARIABLE}=")
        printed = dict(
            line.removeprefix("export ").split("=", 1)
            for line in sandbox.lines
            if line.startswith("export AUTHONOMY_")
        )
        written = dict(line.split("=", 1) for line in (work / ".env").read_text().splitlines())
        assert written == printed, "the .env file holds what was printed"
        assert printed["AUTHONOMY_APP_URL"] == f"http://127.0.0.1:{port}"
        issuer = printed["AUTHONOMY_ISSUER"]

        signed_in = walk_app("fastapi", work, env, port, issuer, chromium)
        install(readme_block("install-flask"), env, work)
        walk_app("flask", work, env, port, issuer, chromium)
        assert all(not line.startswith("Traceback") for line in sandbox.lines)
    seconds = signed_in - started
    print(f"\nfresh venv to a signed-in page: {seconds:.0f} seconds")
