"""Reading request input: JSON bodies, typed fields, URLs and list queries."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from ._envelope import ApiError, ApiReply

__all__ = [
    "check_url",
    "json_object",
    "list_reply",
    "optional_bool",
    "optional_int",
    "optional_str",
    "optional_str_list",
    "reject_unknown_fields",
    "required_str",
]

_MAX_BODY_BYTES = 1_000_000


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or ``INVALID_REQUEST``."""
    raw = await request.body()
    if len(raw) > _MAX_BODY_BYTES:
        raise ApiError.invalid_request("Request body is too large")
    if not raw.strip():
        raise ApiError.invalid_request("Request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError.invalid_request("Malformed JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiError.invalid_request("Request body must be a JSON object")
    return body


def _wrong_type(name: str, expected: str) -> ApiError:
    return ApiError.invalid_request(
        f"Field '{name}' must be {expected}", field=name, expected=expected
    )


def optional_str(body: Mapping[str, Any], name: str) -> str | None:
    """A string field that may be absent or null."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _wrong_type(name, "a string")
    return value


def required_str(body: Mapping[str, Any], name: str) -> str:
    """A non-empty string field."""
    value = optional_str(body, name)
    if not value:
        raise ApiError.invalid_request(f"Missing required field '{name}'", field=name)
    return value


def optional_int(body: Mapping[str, Any], name: str) -> int | None:
    """An integer field (booleans are not integers here)."""
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _wrong_type(name, "an integer")
    return value


def optional_bool(body: Mapping[str, Any], name: str) -> bool | None:
    """A boolean field."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _wrong_type(name, "a boolean")
    return value


def optional_str_list(body: Mapping[str, Any], name: str) -> list[str] | None:
    """A list-of-strings field."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong_type(name, "a list of strings")
    return list(value)


def reject_unknown_fields(body: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """``VALIDATION_ERROR`` naming the first field the endpoint does not know."""
    for name in body:
        if name not in allowed:
            raise ApiError.validation(f"Unknown field '{name}'", field=name)


def check_url(name: str, url: str) -> str:
    """An absolute http(s) URL without a fragment, or ``VALIDATION_ERROR``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ApiError.validation(
            f"Field '{name}' must be an absolute http(s) URL without a fragment", field=name
        )
    return url


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError.invalid_request(
            f"Query parameter '{name}' must be an integer from {low} to {high}", parameter=name
        )
    return int(raw)


def _sorted(
    items: list[dict[str, Any]], request: Request, fields: Sequence[str], default: str, order: str
) -> list[dict[str, Any]]:
    sort = request.query_params.get("sort", default)
    order = request.query_params.get("order", order)
    if sort not in fields:
        raise ApiError.invalid_request(
            f"Cannot sort by '{sort}'", parameter="sort", allowed=list(fields)
        )
    if order not in ("asc", "desc"):
        raise ApiError.invalid_request("Query parameter 'order' must be asc or desc")
    return sorted(items, key=lambda item: (item[sort] is None, item[sort]), reverse=order == "desc")


def list_reply(
    items: list[dict[str, Any]],
    request: Request,
    *,
    filters: Sequence[str] = (),
    sort_fields: Sequence[str] = ("created_at",),
    default_sort: str = "created_at",
    default_order: str = "asc",
    predicate: Callable[[dict[str, Any]], bool] | None = None,
) -> ApiReply:
    """Filter (exact match on ``filters``), sort and paginate ``items``."""
    page = _query_int(request, "page", 1, 1, 1_000_000)
    limit = _query_int(request, "limit", 20, 1, 100)
    for name in filters:
        wanted = request.query_params.get(name)
        if wanted is not None:
            items = [item for item in items if item.get(name) == wanted]
    if predicate is not None:
        items = [item for item in items if predicate(item)]
    items = _sorted(items, request, sort_fields, default_sort, default_order)
    start = (page - 1) * limit
    pagination = {
        "current_page": page,
        "total_pages": max(1, math.ceil(len(items) / limit)),
        "total_items": len(items),
        "page_size": limit,
    }
    return ApiReply(items[start : start + limit], pagination=pagination)
