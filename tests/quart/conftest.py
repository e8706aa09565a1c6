"""Fixtures of the Quart tests: one sandbox per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox the apps of a module sign in with."""
    with Sandbox() as sb:
        yield sb
