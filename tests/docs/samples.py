"""The code samples of the documentation, extracted and run.

The convention every page follows: its ```` ```python ```` blocks, executed in order in
one namespace, make a program that runs. A block right after ``<!-- file: NAME -->`` is
a file of the reader's project instead: it is written under the run's directory (which
is on ``sys.path`` while the page runs), so that a later block may import it
(``from app import app``); it runs when imported. A block marked
``<!-- newcomer: NAME -->`` is also read by ``tests/newcomer``, which runs it as a
newcomer does, outside this process. Shell blocks are not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(
    r"(?P<markers>(?:<!-- [\w-]+: [^>]+ -->\n)*)"
    r"(?P<indent>[ \t]*)```(?P<lang>\w*)\n(?P<code>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
_MARKER = re.compile(r"<!-- ([\w-]+): ([^>]+?) -->")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, its code and its markers."""

    page: str
    lang: str
    code: str
    markers: dict[str, str]

    @property
    def file(self) -> str | None:
        """The project file this block is, if it is marked as one."""
        return self.markers.get("file")


def blocks(page: str | Path) -> list[Block]:
    """Every fenced block of ``page`` (a path under ``docs/``, or the README)."""
    path = page if isinstance(page, Path) else DOCS / page
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        indent = match.group("indent")
        code = "".join(
            line.removeprefix(indent) for line in match.group("code").splitlines(keepends=True)
        )
        markers = dict(_MARKER.findall(match.group("markers")))
        found.append(Block(str(page), match.group("lang"), code, markers))
    return found


def python_blocks(page: str | Path) -> list[Block]:
    """The page's Python blocks, in order."""
    return [b for b in blocks(page) if b.lang == "python"]


def pages() -> list[str]:
    """Every Markdown page of the site, as a path under ``docs/``."""
    return sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))


@contextmanager
def _importable(directory: Path) -> Iterator[None]:
    """``directory`` on ``sys.path``; the modules imported from it forgotten after."""
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if str(directory) in str(getattr(module, "__file__", "") or ""):
                del sys.modules[name]


def run_page(page: str, directory: Path, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``page``'s Python blocks in order in one namespace, and return it.

    File blocks are written under ``directory``, importable while the page runs.
    """
    namespace = {"__name__": "docs_sample"} if namespace is None else namespace
    with _importable(directory):
        for block in python_blocks(page):
            if block.file is not None:
                target = directory / block.file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code)
                continue
            exec(compile(block.code, f"{page} (python block)", "exec"), namespace)
    return namespace


def program(page: str) -> str:
    """The page's Python blocks (no file blocks) as one program's source."""
    return "\n".join(b.code for b in python_blocks(page) if b.file is None)


def run_page_in_process(page: str, directory: Path, env: dict[str, str], then: str = "") -> str:
    """Run ``page``'s program, followed by ``then``, in a new interpreter (for samples that
    set process-wide state, such as OpenTelemetry's providers); its output, which must end
    with status 0."""
    script = directory / "page.py"
    script.write_text(program(page) + "\n" + then)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=directory, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


WEBHOOK_SECRET = "whsec_ZG9jcy1zYW1wbGUtd2ViaG9vay1zZWNyZXQtMDEyMw=="


@pytest.fixture
def app_url() -> str:
    """The app's origin the samples run under; a test overrides it by parametrizing."""
    return "http://localhost"


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch, app_url: str) -> Iterator[Sandbox]:
    """A running sandbox, with the variables ``AuthonomyConfig.from_env()`` reads."""
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
        monkeypatch.delenv("AUTHONOMY_REDIS_URL", raising=False)
        yield sb
