"""One sandbox per test module; modules that move its clock or limits make their own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import api


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A running sandbox shared by the tests of one module."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    """An API client with the full-access key."""
    with api(sb) as http:
        yield http
