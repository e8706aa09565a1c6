"""A part of the kit whose optional dependency is missing says which extra to install.

Each case runs in a fresh interpreter in which the dependency cannot be imported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    ("uvicorn", "import authonomy_integrations.sandbox", "sandbox"),
    ("uvicorn", "from authonomy_integrations.testing import login_as", "sandbox"),
    ("uvicorn", "from authonomy_integrations.sandbox.__main__ import main", "sandbox"),
    ("flask", "from authonomy_integrations.flask import Authonomy", "flask"),
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
