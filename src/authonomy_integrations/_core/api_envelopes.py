"""Authonomy's answers: success envelopes, error envelopes as exceptions, and pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .._errors import (
    AuthonomyAPIError,
    AuthonomyUnavailableError,
    RateLimitedError,
    api_error_for,
)
from .api_retry import RetryPolicy, lower_headers, observed_send, server_wait
from .effects import Flow, HttpRequest, HttpResponse
from .events import LOG_ONLY, Events

__all__ = [
    "Envelope",
    "Page",
    "Pages",
    "error_from_response",
    "fetch_json",
    "page_from",
    "unwrap",
]

T = TypeVar("T")
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class Envelope:
    """A successful API answer: its ``data`` and, for lists, its ``pagination``."""

    data: Any
    pagination: Mapping[str, Any] | None = None
    request_id: str | None = None


def unwrap(response: HttpResponse, now: float) -> Envelope:
    """The envelope of a successful ``response``; raise the matching error otherwise."""
    body = _json_or_none(response)
    failed = isinstance(body, dict) and body.get("success") is False
    if response.status >= 400 or failed:
        raise error_from_response(response, now)
    if not (200 <= response.status < 300):
        raise _unexpected(response, f"unexpected HTTP {response.status}")
    if response.status == 204 or not response.body:
        return Envelope(None, request_id=_request_id(response, None))
    if not isinstance(body, dict) or "data" not in body:
        raise _unexpected(response, "the answer is not an Authonomy envelope")
    pagination = body.get("pagination")
    return Envelope(
        body["data"],
        pagination if isinstance(pagination, dict) else None,
        _request_id(response, body),
    )


def error_from_response(response: HttpResponse, now: float) -> Exception:
    """The exception an error ``response`` stands for, with the server's context attached."""
    body = _json_or_none(response)
    wait = server_wait(response, now)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        details = error.get("details")
        exc = api_error_for(
            error["code"],
            str(error.get("message") or error["code"]),
            status=response.status,
            details=details if isinstance(details, dict) else None,
            request_id=_request_id(response, body),
        )
    elif response.status in _UNAVAILABLE_STATUSES:
        message = f"Authonomy answered HTTP {response.status} without an error envelope"
        return AuthonomyUnavailableError(message, retry_after=wait)
    else:
        exc = _envelope_less(response)
    if isinstance(exc, RateLimitedError):
        exc.retry_after = wait
    return exc


def _envelope_less(response: HttpResponse) -> AuthonomyAPIError:
    # Statuses whose meaning does not depend on the body keep their specific class, so a
    # caller catching RateLimitedError or InternalServerError still catches them.
    code = {429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}.get(response.status)
    if code is None:
        return _unexpected(response, f"HTTP {response.status} without an error envelope")
    message = f"HTTP {response.status} from Authonomy without an error envelope"
    return api_error_for(
        code, message, status=response.status, request_id=_request_id(response, None)
    )


def _unexpected(response: HttpResponse, reason: str) -> AuthonomyAPIError:
    return AuthonomyAPIError(
        f"Unexpected answer from Authonomy: {reason}",
        code="UNEXPECTED_RESPONSE",
        status=response.status,
        request_id=_request_id(response, None),
    )


def _json_or_none(response: HttpResponse) -> Any:
    if not response.body:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _request_id(response: HttpResponse, body: Any) -> str | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("request_id"), str):
        return str(meta["request_id"])
    return lower_headers(response.headers).get("x-request-id")


def fetch_json(
    url: str, *, timeout: float = 10.0, retry: RetryPolicy | None = None, events: Events = LOG_ONLY
) -> Flow[tuple[Any, Mapping[str, str]]]:
    """GET an absolute URL (key set, discovery) without the API key; return JSON and headers.

    Errors are mapped as for API calls; a body that is not JSON raises
    :class:`AuthonomyAPIError` with code ``UNEXPECTED_RESPONSE``.
    """
    retry = retry or RetryPolicy()
    request = HttpRequest("GET", url, {"Accept": "application/json"}, timeout=timeout)
    response = yield from observed_send(request, retry, idempotent=True, events=events)
    if response.status >= 400:
        raise error_from_response(response, retry.clock())
    try:
        return response.json(), lower_headers(response.headers)
    except ValueError:
        raise _unexpected(response, f"{url} did not answer with JSON") from None


# --- pagination ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    number: int
    total_pages: int
    total_items: int | None = None

    @property
    def next_number(self) -> int | None:
        """The page to fetch next, or ``None`` after the last one."""
        if not self.items or self.number >= self.total_pages:
            return None
        return self.number + 1


@dataclass(frozen=True, slots=True)
class Pages(Generic[T]):
    """A listing: ``page(n)`` is the flow fetching page ``n`` (from 1)."""

    fetch: Callable[[int], Flow[Page[T]]]

    def page(self, number: int) -> Flow[Page[T]]:
        """The flow fetching page ``number``."""
        return self.fetch(number)

    def collect(self) -> Flow[list[T]]:
        """The flow fetching every page and returning all items."""
        items: list[T] = []
        number: int | None = 1
        while number is not None:
            page = yield from self.page(number)
            items.extend(page.items)
            number = page.next_number
        return items


def page_from(envelope: Envelope, number: int) -> Page[Any]:
    """Page ``number`` of a listing from its envelope; a non-list answer is an error."""
    if not isinstance(envelope.data, list):
        raise AuthonomyAPIError(
            "Unexpected answer from Authonomy: a listing without a list",
            code="UNEXPECTED_RESPONSE",
            request_id=envelope.request_id,
        )
    pagination = envelope.pagination or {}
    total_pages = pagination.get("total_pages")
    total_items = pagination.get("total_items")
    # The page we asked for, not the one the server claims, drives the walk, so a
    # server ignoring ``page`` still ends after ``total_pages`` requests.
    return Page(
        envelope.data,
        number,
        total_pages if isinstance(total_pages, int) else number,
        total_items if isinstance(total_items, int) else None,
    )
