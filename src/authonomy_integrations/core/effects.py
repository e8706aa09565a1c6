"""The effects a core flow asks its driver to perform.

A flow is a generator: it yields an effect, the driver performs it (sync or async) and
sends the result back in, or throws the exception the effect raised. The core itself does
no I/O, so the same flow serves Flask's threads and Starlette's event loop::

    def fetch_keys(url):
        response = yield HttpRequest("GET", url)
        return response.json()

Drivers live in :mod:`authonomy_integrations._drivers`.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Flow", "HttpRequest", "HttpResponse", "Sleep"]

T = TypeVar("T")

#: A core flow: yields effects, receives their results, returns ``T``.
Flow = Generator[Any, Any, T]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Send one HTTP request; the driver answers with an :class:`HttpResponse`.

    Transport failures (connection refused, timeout) are thrown into the flow as
    :class:`httpx.TransportError`-free :class:`~authonomy_integrations.errors.AuthonomyUnavailableError`.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    params: Mapping[str, Any] | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP response; header names are lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``); the result is ``None``."""

    seconds: float
