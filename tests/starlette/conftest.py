"""Fixtures: a sandbox, and the example FastAPI app served by uvicorn against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox
from examples.fastapi_app import create_app

from .helpers import serve

WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"


@contextmanager
def example_app(sb: Sandbox, **overrides: Any) -> Iterator[str]:
    """The example app against ``sb``, on the sandbox's clock; yields its URL."""

    def make(base_url: str) -> Any:
        settings = {"app_url": base_url, "max_retries": 0, "webhook_secret": WEBHOOK_SECRET}
        config = sb.config(**{**settings, **overrides})
        return create_app(config, clock=sb.state.clock.now)

    with serve(make) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox shared by a module; tests that move its clock far make their own."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def app_url(sb: Sandbox) -> Iterator[str]:
    """The example app served against the module's sandbox."""
    with example_app(sb) as base_url:
        yield base_url


@pytest.fixture
def short_sb() -> Iterator[Sandbox]:
    """A fresh sandbox whose access tokens live 2 seconds."""
    with Sandbox(token_ttl=2) as sandbox:
        yield sandbox
