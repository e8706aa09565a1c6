"""Pytest plugin (entry point ``authonomy``): fixtures for users' own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..sandbox import Sandbox

#: Starlette's ``TestClient`` warns when it runs on ``httpx`` rather than its fork: the
#: kit depends on ``httpx``, so every user of the kit would see this on every run.
#: Starlette before 0.38's ``TestClient`` names an alias that anyio 4.x deprecates.
KIT_WARNINGS = (
    "ignore:Using `httpx` with `starlette.testclient` is deprecated",
    "ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the warnings the kit's own dependencies cause out of users' test runs."""
    for line in KIT_WARNINGS:
        config.addinivalue_line("filterwarnings", line)


@pytest.fixture(scope="session")
def authonomy_sandbox() -> Iterator[Sandbox]:
    """A running embedded sandbox for the whole test session, stopped at the end."""
    # Imported here so that loading the plugin never needs the sandbox's extras (uvicorn).
    from ..sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox
