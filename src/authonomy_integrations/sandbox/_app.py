"""``create_app``: the sandbox as one Starlette application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ._analytics_routes import analytics_routes
from ._api import Call, api_route
from ._auth_routes import auth_routes
from ._console_routes import console_routes
from ._customer_routes import customer_routes
from ._envelope import ApiError, ApiReply
from ._issuer_routes import issuer_routes
from ._login_pages import login_routes
from ._own_host import OwnHostOnly
from ._policy_routes import policy_routes
from ._state import SandboxState
from ._webhook_routes import webhook_routes

__all__ = ["create_app"]

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class _CountRequests:
    """Counts every HTTP request by method and path, for tests that assert on traffic."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.state.count_request(scope["method"], scope["path"])
        await self.app(scope, receive, send)


async def _unknown_endpoint(call: Call) -> ApiReply:
    raise ApiError.not_found(f"No endpoint {call.request.method} {call.request.url.path}")


def create_app(state: SandboxState) -> Starlette:
    """The sandbox's API under ``/v1``, hosted login pages and issuer documents."""
    routes: list[BaseRoute] = [
        *issuer_routes(),
        *login_routes(),
        *console_routes(),
        *auth_routes(state),
        *customer_routes(state),
        *policy_routes(state),
        *webhook_routes(state),
        *analytics_routes(state),
        api_route(
            state, "/{path:path}", _unknown_endpoint, methods=_ALL_METHODS,
            category="management", permission="read",
        ),
    ]  # fmt: skip
    middleware = [
        Middleware(OwnHostOnly, issuer=lambda: state.issuer),  # before any route: rebinding
        Middleware(_CountRequests, state=state),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.sandbox = state
    return app
