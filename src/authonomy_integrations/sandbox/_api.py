"""One wrapper for every ``/v1`` endpoint: key, rate limit, permission, envelope."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._envelope import ApiError, ApiReply, error_body, new_request_id, success_body
from ._models import ApiKey
from ._ratelimit import RateVerdict
from ._state import SandboxState

__all__ = ["Call", "Handler", "api_route"]

logger = logging.getLogger("authonomy_integrations.sandbox")

#: Which key permissions grant each endpoint permission.
_GRANTED_BY = {
    "read": frozenset({"read", "configuration", "full"}),
    "configuration": frozenset({"configuration", "full"}),
    "authentication": frozenset({"authentication", "full"}),
}


@dataclass(frozen=True)
class Call:
    """What an endpoint handler gets: the request, the caller's key and the state."""

    request: Request
    key: ApiKey
    state: SandboxState


Handler = Callable[[Call], Awaitable[ApiReply]]


def _presented_key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _admit(
    state: SandboxState, request: Request, category: str
) -> tuple[ApiKey | None, RateVerdict]:
    presented = _presented_key(request)
    key = state.api_key(presented) if presented else None
    client = request.client.host if request.client else "unknown"
    identity = key.key if key else f"anonymous:{client}"
    return key, state.rate_limiter.hit(identity, category, state.clock.now())


def _authorize(key: ApiKey | None, verdict: RateVerdict, permission: str) -> ApiKey:
    if not verdict.allowed:
        raise ApiError(
            429, "RATE_LIMITED", "Rate limit exceeded", {"retry_after": verdict.retry_after}
        )
    if key is None:
        raise ApiError(401, "INVALID_API_KEY", "Missing or unknown API key")
    if not key.permissions & _GRANTED_BY[permission]:
        raise ApiError(
            403,
            "INSUFFICIENT_PERMISSIONS",
            f"API key lacks the '{permission}' permission",
            {"required_permission": permission},
        )
    return key


def api_route(
    state: SandboxState,
    path: str,
    handler: Handler,
    *,
    methods: list[str],
    category: str,
    permission: str,
) -> Route:
    """A Starlette route under ``/v1`` that answers only with envelopes."""

    async def endpoint(request: Request) -> Response:
        request_id = new_request_id()
        key, verdict = _admit(state, request, category)
        try:
            caller = _authorize(key, verdict, permission)
            if state.take_fault(request.method, request.url.path):
                raise ApiError(500, "INTERNAL_ERROR", "Internal server error")
            reply = await handler(Call(request, caller, state))
            status, body = reply.status, success_body(reply, request_id, state.clock.now())
        except ApiError as error:
            status, body = error.status, error_body(error, request_id, state.clock.now())
        except Exception:
            logger.exception("sandbox fault on %s %s", request.method, request.url.path)
            fault = ApiError(500, "INTERNAL_ERROR", "Internal server error")
            status, body = 500, error_body(fault, request_id, state.clock.now())
        return JSONResponse(body, status_code=status, headers=verdict.headers())

    return Route(f"/v1{path}", endpoint, methods=methods)
