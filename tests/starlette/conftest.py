"""Fixtures of the Starlette tests: a sandbox shared by a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox shared by a module; tests that move its clock far make their own."""
    with Sandbox() as sandbox:
        yield sandbox
