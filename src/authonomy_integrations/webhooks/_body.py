"""Reading a delivery's body under a size limit, and checking its content type.

Adapters use these so an oversized body is refused from ``Content-Length`` or while it
streams in, never after it has been read whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from .._errors import PayloadTooLargeError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PayloadTooLargeError",
    "aread_limited",
    "check_content_length",
    "is_json_content_type",
    "read_limited",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Largest body a receiver accepts by default (1 MiB)."""


def is_json_content_type(value: str | None) -> bool:
    """Whether a ``Content-Type`` is ``application/json``, parameters such as charset allowed."""
    if not value:
        return False
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def check_content_length(value: str | None, limit: int) -> None:
    """Refuse up front a declared ``Content-Length`` over ``limit``.

    A missing or unreadable header is left to the streaming check.
    """
    if value is None:
        return
    stripped = value.strip()
    if stripped.isascii() and stripped.isdigit() and int(stripped) > limit:
        raise PayloadTooLargeError(limit)


def read_limited(
    chunks: Iterable[bytes], limit: int, *, content_length: str | None = None
) -> bytes:
    """Join ``chunks`` into the body, stopping as soon as it grows past ``limit`` bytes."""
    check_content_length(content_length, limit)
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(limit)
    return bytes(body)


async def aread_limited(
    chunks: AsyncIterable[bytes], limit: int, *, content_length: str | None = None
) -> bytes:
    """The asynchronous twin of :func:`read_limited`, for ASGI request streams."""
    check_content_length(content_length, limit)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(limit)
    return bytes(body)
