"""Fixtures of the live suite: one sandbox per module, and each adapter's example app
served over real HTTP against it, on the sandbox's clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from ..adapters import ADAPTERS, WEBHOOK_SECRET, Adapter, serve_example
from ..browsing import browser

#: Seconds an access token lives: long enough that no test sees one expire unless it
#: moves the clock, short against the 30 seconds of leeway the outage tests go past.
TOKEN_TTL = 10


@contextmanager
def example(adapter: Adapter, sb: Sandbox, **overrides: Any) -> Iterator[str]:
    """The example app of ``adapter`` against ``sb``, on ``sb``'s clock; its URL.

    The app reads the sandbox's clock, so advancing it moves both sides' time together.
    """
    # No retries: an outage is answered at once (retries have their own tests).
    settings = {"webhook_secret": WEBHOOK_SECRET, "refresh_margin": 1, "max_retries": 0}
    settings.update(overrides)
    with serve_example(
        adapter, lambda url: sb.config(app_url=url, **settings), sb.state.clock.now
    ) as url:
        yield url


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox shared by a module; its clock only moves forward."""
    with Sandbox(token_ttl=TOKEN_TTL) as sb:
        yield sb


@pytest.fixture(scope="module", params=ADAPTERS, ids=str)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    """Each adapter of the registry in turn."""
    entry: Adapter = request.param
    return entry


@pytest.fixture(scope="module")
def live(adapter: Adapter, sandbox: Sandbox) -> Iterator[str]:
    """The adapter's example app, served for the module's tests; its URL.

    Each test signs in with a browser of its own, as the users of one app do; a test
    that needs an app configured otherwise serves its own with :func:`example`."""
    with example(adapter, sandbox) as url:
        yield url


@pytest.fixture
def client(live: str) -> Iterator[httpx.Client]:
    """A browser on the example app."""
    with browser(live) as http:
        yield http


def refreshes(sb: Sandbox) -> int:
    """How many token refreshes the sandbox has answered."""
    return sb.request_count("POST", "/v1/auth/refresh")
