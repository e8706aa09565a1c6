"""Fixtures of the Flask tests: one sandbox per module, an app served by waitress."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox whose access tokens live two seconds, so refreshes are easy to reach."""
    with Sandbox(token_ttl=2) as sb:
        yield sb
