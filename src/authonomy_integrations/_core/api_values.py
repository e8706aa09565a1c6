"""Checks of the values callers pass to endpoints, so a bad argument fails before a request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from .._errors import ConfigurationError
from .urls import url_problem

__all__ = [
    "check_base_url",
    "has_fields",
    "page_size",
    "query",
    "segment",
    "strings",
    "text",
    "url",
]

_HTTP_SCHEMES = frozenset({"http", "https"})
_MAX_PAGE_SIZE = 100


def text(name: str, value: object) -> str:
    """``value``, which must be a non-empty string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def strings(name: str, values: Iterable[str]) -> list[str]:
    """``values`` as a list of non-empty strings; a lone string is refused."""
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    items = list(values)
    for item in items:
        text(f"each of {name}", item)
    return items


def url(name: str, value: object) -> str:
    """``value``, which must be an absolute http(s) URL."""
    parts = urlsplit(text(name, value))
    if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) URL, got {value!r}")
    return str(value)


def segment(name: str, value: object) -> str:
    """``value`` as one path segment, so an id can never reach another endpoint."""
    checked = text(name, value)
    if checked in (".", ".."):
        raise ValueError(f"{name} {checked!r} is not a valid identifier")
    return quote(checked, safe="")


def page_size(limit: int) -> int:
    """``limit``, which must be an integer page size the API accepts (1 to 100)."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError("limit must be an integer")
    if not 1 <= limit <= _MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {_MAX_PAGE_SIZE}, got {limit}")
    return limit


def query(**values: object) -> dict[str, Any]:
    """Query parameters from ``values``: ``None`` left out, datetimes in ISO 8601."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
        if value is not None
    }


def has_fields(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """``fields``, which must name at least one field to change."""
    if not fields:
        raise ValueError("give at least one field to update")
    return fields


def check_base_url(base_url: str) -> str:
    """The API URL without a trailing slash; refused unless https (or local http)."""
    # The API key travels in every request; plain http would expose it.
    problem = url_problem(base_url)
    if problem is not None:
        raise ConfigurationError("base_url", problem)
    return base_url.rstrip("/")
