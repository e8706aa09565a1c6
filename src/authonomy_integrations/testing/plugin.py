"""Pytest plugin (entry point ``authonomy``): fixtures for users' own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..sandbox import Sandbox


@pytest.fixture(scope="session")
def authonomy_sandbox() -> Iterator[Sandbox]:
    """A running embedded sandbox for the whole test session, stopped at the end."""
    # Imported here so that loading the plugin never needs the sandbox's extras (uvicorn).
    from ..sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox
