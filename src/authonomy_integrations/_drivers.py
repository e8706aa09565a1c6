"""Drivers that run core flows: one sync (threads), one async (event loop).

Both step the same generator; they differ only in how an effect is performed. Extra
effect types (session store, locks, webhook replay ids) are handled by callables
registered per type: the session store's are in :mod:`._store_effects`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx

from ._core.effects import Flow, HttpRequest, HttpResponse, Sleep
from ._errors import AuthonomyUnavailableError

__all__ = ["AsyncRunner", "SyncRunner", "to_response"]

T = TypeVar("T")


def to_response(response: httpx.Response) -> HttpResponse:
    """An httpx response as the core's value type."""
    return HttpResponse(response.status_code, dict(response.headers), response.content)


def _unavailable(request: HttpRequest, exc: Exception) -> AuthonomyUnavailableError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return AuthonomyUnavailableError(f"Authonomy {kind}: {request.method} {request.url}")


def _advance(flow: Flow[T], value: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Send the last effect's result (or throw its error) into ``flow``: ``(True, its
    return value)`` when it finished, else ``(False, the next effect)``."""
    try:
        return False, flow.throw(error) if error is not None else flow.send(value)
    except StopIteration as stop:
        return True, stop.value


def _build(client: httpx.Client | httpx.AsyncClient | None, request: HttpRequest) -> httpx.Request:
    if client is None:  # a runner for flows that make no HTTP calls (webhook deliveries)
        raise RuntimeError(f"this runner makes no HTTP requests: {request.method} {request.url}")
    return client.build_request(
        request.method,
        request.url,
        headers=dict(request.headers),
        json=request.json,
        params=dict(request.params) if request.params else None,
        timeout=request.timeout if request.timeout is not None else client.timeout,
    )


class SyncRunner:
    """Runs flows in the calling thread with an ``httpx.Client``."""

    def __init__(
        self,
        http: httpx.Client | None,
        handlers: Mapping[type, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.http = http
        self.handlers = dict(handlers or {})

    def with_handlers(self, handlers: Mapping[type, Callable[[Any], Any]]) -> SyncRunner:
        """A runner on the same client that also performs the effects in ``handlers``."""
        return SyncRunner(self.http, {**self.handlers, **handlers})

    def perform(self, effect: Any) -> Any:
        """Perform one effect and return its result."""
        if isinstance(effect, HttpRequest):
            try:
                request = _build(self.http, effect)
                assert self.http is not None
                return to_response(self.http.send(request))
            except httpx.TransportError as exc:
                raise _unavailable(effect, exc) from exc
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        return self.handlers[type(effect)](effect)

    def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to completion and return its value."""
        value: Any = None
        error: BaseException | None = None
        while True:
            done, step = _advance(flow, value, error)
            if done:
                return step  # type: ignore[no-any-return]
            try:
                value, error = self.perform(step), None
            except Exception as exc:
                value, error = None, exc


class AsyncRunner:
    """Runs flows on the event loop with an ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        handlers: Mapping[type, Callable[[Any], Awaitable[Any]]] | None = None,
    ) -> None:
        self.http = http
        self.handlers = dict(handlers or {})

    def with_handlers(
        self, handlers: Mapping[type, Callable[[Any], Awaitable[Any]]]
    ) -> AsyncRunner:
        """A runner on the same client that also performs the effects in ``handlers``."""
        return AsyncRunner(self.http, {**self.handlers, **handlers})

    async def perform(self, effect: Any) -> Any:
        """Perform one effect and return its result."""
        if isinstance(effect, HttpRequest):
            try:
                request = _build(self.http, effect)
                assert self.http is not None
                return to_response(await self.http.send(request))
            except httpx.TransportError as exc:
                raise _unavailable(effect, exc) from exc
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        return await self.handlers[type(effect)](effect)

    async def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to completion and return its value."""
        value: Any = None
        error: BaseException | None = None
        while True:
            done, step = _advance(flow, value, error)
            if done:
                return step  # type: ignore[no-any-return]
            try:
                value, error = await self.perform(step), None
            except Exception as exc:
                value, error = None, exc
