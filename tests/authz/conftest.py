"""Fixtures of the authorization scenarios: a sandbox, and each adapter in turn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox

from .apps import ADAPTERS, Adapter


@pytest.fixture(params=ADAPTERS, ids=str)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    """The adapter the scenario runs through."""
    result: Adapter = request.param
    return result


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox shared by a module."""
    with Sandbox() as sandbox:
        yield sandbox
