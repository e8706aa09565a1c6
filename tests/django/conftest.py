"""Fixtures of the Django tests: Django configured once, a sandbox per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox

from . import helpers  # noqa: F401  (configures Django before any test module imports it)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox whose access tokens live two seconds, so refreshes are easy to reach."""
    with Sandbox(token_ttl=2) as sb:
        yield sb
