"""Retries of Authonomy API calls: when to repeat a request and how long to wait.

Idempotent calls (GET, PUT, DELETE) are retried on transport errors, 429 and
500/502/503/504, waiting as the server asks (``Retry-After``, then ``X-RateLimit-Reset`` on
a 429) or with exponential backoff and jitter otherwise. A server wait longer than the cap
is not slept through: the error is raised at once with ``retry_after`` set. POST is never
retried, because an authorization code must not be spent twice.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._errors import AuthonomyUnavailableError, ConfigurationError
from .effects import Flow, HttpRequest, HttpResponse, Sleep
from .events import API_CALL, Events

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRIABLE_STATUSES",
    "RetryPolicy",
    "lower_headers",
    "observed_send",
    "send",
    "send_counted",
    "server_wait",
]

#: Methods whose repetition has no further effect, so a retry is safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
#: Statuses worth another try of an idempotent call.
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to wait before repeating an idempotent call."""

    max_retries: int = 2
    """Retries after the first attempt."""
    base_delay: float = 0.5
    """Backoff before the first retry; doubles with each further retry."""
    max_delay: float = 30.0
    """Longest wait; a server asking for more gets its error raised instead."""
    clock: Callable[[], float] = time.time
    """Unix time now; reads ``X-RateLimit-Reset`` and date-valued ``Retry-After``."""
    jitter: Callable[[], float] = random.random
    """A number in [0, 1) spreading retries of many clients apart."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries", "must not be negative")
        if self.base_delay <= 0 or self.max_delay < self.base_delay:
            raise ConfigurationError("max_delay", "need 0 < base_delay <= max_delay")

    def backoff(self, attempt: int) -> float:
        """Wait before retry ``attempt + 1``: between half and all of the doubled delay."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling * (0.5 + 0.5 * self.jitter())

    def delay(self, response: HttpResponse, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``response``, or ``None`` to stop."""
        if attempt >= self.max_retries or response.status not in RETRIABLE_STATUSES:
            return None
        wait = server_wait(response, self.clock())
        if wait is None:
            return self.backoff(attempt)
        return wait if wait <= self.max_delay else None


def server_wait(response: HttpResponse, now: float) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or a 429's reset time."""
    headers = lower_headers(response.headers)
    wait = _retry_after(headers.get("retry-after", ""), now)
    if wait is None and response.status == 429:
        reset = _number(headers.get("x-ratelimit-reset", ""))
        wait = None if reset is None else max(0.0, reset - now)
    return wait


def _retry_after(value: str, now: float) -> float | None:
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with lower-case names, for lookups that ignore case."""
    return {name.lower(): value for name, value in headers.items()}


def send(request: HttpRequest, retry: RetryPolicy, *, idempotent: bool) -> Flow[HttpResponse]:
    """Send ``request``, retrying per ``retry`` when ``idempotent``; return the last response.

    The response may be an error; :func:`.api_envelopes.unwrap` or
    :func:`.api_envelopes.error_from_response` read it.
    """
    response, _ = yield from send_counted(request, retry, idempotent=idempotent)
    return response


def send_counted(
    request: HttpRequest, retry: RetryPolicy, *, idempotent: bool, retries: list[int] | None = None
) -> Flow[tuple[HttpResponse, int]]:
    """:func:`send`, also returning how many retries it made. ``retries``, when given,
    holds that count as it grows, for a caller that sees the call fail."""
    attempt = 0
    while True:
        if retries is not None:
            retries[:] = [attempt]
        try:
            response: HttpResponse = yield request
        except AuthonomyUnavailableError:
            if not idempotent or attempt >= retry.max_retries:
                raise
            yield Sleep(retry.backoff(attempt))
            attempt += 1
            continue
        wait = retry.delay(response, attempt) if idempotent else None
        if wait is None:
            return response, attempt
        yield Sleep(wait)
        attempt += 1


def observed_send(
    request: HttpRequest, retry: RetryPolicy, *, idempotent: bool, events: Events
) -> Flow[HttpResponse]:
    """:func:`send` inside a client span, reported as an ``api.call`` event (endpoint,
    status, retries, latency). The URL is reported without its query string."""
    parts = urlsplit(request.url)
    port = parts.port
    url_full = f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}{parts.path}"
    attributes = {
        "http.request.method": request.method,
        "url.full": url_full,
        "server.address": parts.hostname,
        "server.port": port,
    }
    started = retry.clock()
    retries = [0]

    def report(status: int | None) -> None:
        duration = retry.clock() - started
        _report_call(
            events, request.method, parts.path, parts.hostname, retries[0], duration, status
        )

    with events.span(request.method, **attributes) as span:
        try:
            response, _ = yield from send_counted(
                request, retry, idempotent=idempotent, retries=retries
            )
        except AuthonomyUnavailableError:
            report(None)
            raise
        span.set_attribute("http.response.status_code", response.status)
        if response.status >= 400:
            span.set_attribute("error.type", str(response.status))
        report(response.status)
    return response


def _report_call(
    events: Events,
    method: str,
    endpoint: str,
    server: str | None,
    retries: int,
    duration: float,
    status: int | None,
) -> None:
    if status is None:
        level, error = logging.WARNING, "unavailable"
    elif status >= 500:
        level, error = logging.WARNING, str(status)
    elif status >= 400:
        level, error = logging.INFO, str(status)
    else:
        level, error = logging.DEBUG, None
    events.emit(
        API_CALL,
        error,
        duration=max(0.0, duration),
        level=level,
        method=method,
        endpoint=endpoint,
        server=server,
        status=status,
        retries=retries,
        error=error,
    )
