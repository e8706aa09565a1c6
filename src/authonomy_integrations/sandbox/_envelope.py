"""The API's response envelope and the error every bad request turns into."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._clock import isoformat

__all__ = ["ApiError", "ApiReply", "error_body", "new_request_id", "success_body"]


class ApiError(Exception):
    """An error answer: HTTP status, contract code, message and details."""

    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})

    @classmethod
    def invalid_request(cls, message: str, **details: Any) -> ApiError:
        """400 ``INVALID_REQUEST``: malformed JSON, missing or mistyped field, bad query."""
        return cls(400, "INVALID_REQUEST", message, details)

    @classmethod
    def invalid_grant(cls, message: str, **details: Any) -> ApiError:
        """400 ``INVALID_GRANT``: a code or refresh token that cannot be used."""
        return cls(400, "INVALID_GRANT", message, details)

    @classmethod
    def validation(cls, message: str, **details: Any) -> ApiError:
        """422 ``VALIDATION_ERROR``: well-formed but invalid."""
        return cls(422, "VALIDATION_ERROR", message, details)

    @classmethod
    def not_found(cls, message: str, **details: Any) -> ApiError:
        """404 ``NOT_FOUND``: an unknown resource other than a customer."""
        return cls(404, "NOT_FOUND", message, details)

    @classmethod
    def invalid_customer(cls, customer_id: str) -> ApiError:
        """404 ``INVALID_CUSTOMER`` with the overview's message."""
        return cls(
            404,
            "INVALID_CUSTOMER",
            f"Customer '{customer_id}' not found",
            {"customer_id": customer_id},
        )


@dataclass(frozen=True)
class ApiReply:
    """A successful answer: ``data``, status and, for lists, pagination."""

    data: Any
    status: int = 200
    pagination: dict[str, int] | None = field(default=None)


def new_request_id() -> str:
    """An id for ``meta.request_id``."""
    return f"req_{secrets.token_hex(8)}"


def _meta(request_id: str, now: float) -> dict[str, str]:
    return {"timestamp": isoformat(now), "request_id": request_id}


def success_body(reply: ApiReply, request_id: str, now: float) -> dict[str, Any]:
    """``{"success": true, "data", ["pagination"], "meta"}``."""
    body: dict[str, Any] = {"success": True, "data": reply.data}
    if reply.pagination is not None:
        body["pagination"] = reply.pagination
    body["meta"] = _meta(request_id, now)
    return body


def error_body(error: ApiError, request_id: str, now: float) -> dict[str, Any]:
    """``{"success": false, "error": {"code", "message", "details"}, "meta"}``."""
    return {
        "success": False,
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "meta": _meta(request_id, now),
    }
