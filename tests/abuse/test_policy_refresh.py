"""One policy refresh in flight however many requests need it, and waits that end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import anyio.to_thread
import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from tests.adapters import adapter_named
from tests.browsing import mint

from .apps import ADAPTERS

CONCURRENT = 20


class PolicyGate:
    """In front of the sandbox: counts policy lookups and holds them while closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.open = threading.Event()
        self.open.set()
        self.arrivals = 0
        self._count = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/policies":
            with self._count:
                self.arrivals += 1
            await anyio.to_thread.run_sync(self.open.wait, 30)
        await self.app(scope, receive, send)


@contextmanager
def gated_sandbox() -> Iterator[tuple[Sandbox, PolicyGate]]:
    sandbox = Sandbox()
    gate = PolicyGate(sandbox.app)
    sandbox.app = gate
    with sandbox:
        try:
            yield sandbox, gate
        finally:
            gate.open.set()


def served(
    adapter: str, config: AuthonomyConfig, clock: Callable[[], float]
) -> AbstractContextManager[str]:
    """The adapter's app behind a real server (uvicorn, waitress); yields its URL."""
    return adapter_named(adapter).serve(lambda url: config.replace(app_url=url), clock)


def _concurrently(url: str, headers: dict[str, str]) -> list[httpx.Response]:
    def call(_: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as http:
            return http.get("/admin", headers=headers)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(call, range(CONCURRENT)))


def _bearer(sb: Sandbox) -> dict[str, Any]:
    return {"accept": "application/json", "authorization": f"Bearer {mint(sb)}"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_stale_policy_is_refetched_once_while_requests_use_the_last_copy(adapter: str) -> None:
    with gated_sandbox() as (sb, gate):
        headers = _bearer(sb)
        config = sb.config(max_retries=0)
        with served(adapter, config, sb.state.clock.now) as url:
            assert httpx.get(f"{url}/admin", headers=headers).status_code == 200
            assert gate.arrivals == 1
            sb.advance_clock(config.policy_cache_ttl + 1)
            gate.open.clear()  # the refresh hangs at Authonomy
            answers = _concurrently(url, headers)
            assert [answer.status_code for answer in answers] == [200] * CONCURRENT
            assert gate.arrivals == 2
            gate.open.set()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_requests_waiting_for_a_slow_first_fetch_get_503_after_a_bounded_wait(
    adapter: str,
) -> None:
    with gated_sandbox() as (sb, gate):
        headers = _bearer(sb)
        config = sb.config(max_retries=0, http_timeout=1)
        with served(adapter, config, sb.state.clock.now) as url:
            gate.open.clear()
            answers = _concurrently(url, headers)
            gate.open.set()
    assert [answer.status_code for answer in answers] == [503] * CONCURRENT
    assert all(answer.headers.get("retry-after") for answer in answers)
    assert gate.arrivals == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_waiters_give_up_before_a_slow_fetch_with_retries_ends(adapter: str) -> None:
    with gated_sandbox() as (sb, gate):
        headers = _bearer(sb)
        # The fetching request tries three times, a second each; the others wait one second.
        config = sb.config(max_retries=2, http_timeout=1)
        with served(adapter, config, sb.state.clock.now) as url:
            gate.open.clear()

            def call(_: int) -> tuple[int, int]:
                with httpx.Client(base_url=url, timeout=30) as http:
                    status = http.get("/admin", headers=headers).status_code
                return status, gate.arrivals

            with ThreadPoolExecutor(5) as pool:
                futures = [pool.submit(call, index) for index in range(5)]
                answers = [future.result() for future in as_completed(futures)]
            gate.open.set()
    assert [status for status, _ in answers] == [503] * 5
    first_answered_at = answers[0][1]
    assert first_answered_at < 3  # the waiters answered while the fetch was still retrying
    assert gate.arrivals == 3
