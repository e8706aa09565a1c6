"""The same guarded endpoints as a Starlette app and as a FastAPI app, for the guard tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    current_user,
    login_required,
    require_groups,
    require_policy,
)

#: Local policy: only clients from 10.0.0.0/8.
OFFICE_ONLY = {"office-only": {"ip_allowlist": ["10.0.0.0/8"]}}

GUARDS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "login": login_required,
    "admins": require_groups("admins"),
    "mfa": require_policy("require-mfa"),
    "office": require_policy("office-only"),
}


def _variants() -> dict[str, Callable[..., Any]]:
    async def async_request(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.user.id})

    def sync_request(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.user.id})

    async def async_bare() -> JSONResponse:
        return JSONResponse({"user": "not asked"})

    def sync_bare() -> JSONResponse:
        return JSONResponse({"user": "not asked"})

    return {
        "async-request": async_request,
        "sync-request": sync_request,
        "async-bare": async_bare,
        "sync-bare": sync_bare,
    }


#: Every variant of endpoint the decorator tests run: sync or async, with or without request.
VARIANTS = sorted(_variants())


def guarded_endpoints() -> list[tuple[str, Callable[..., Any]]]:
    """``(path, endpoint)`` for every guard and every endpoint variant."""
    routes = []
    for guard_name, guard in GUARDS.items():
        for variant, endpoint in _variants().items():
            endpoint.__name__ = f"{guard_name}_{variant}".replace("-", "_")
            routes.append((f"/{guard_name}/{variant}", guard(endpoint)))
    return routes


def config_for(sb: Sandbox) -> AuthonomyConfig:
    """A configuration for in-process test clients."""
    return sb.config(policies=OFFICE_ONLY, max_retries=0)


async def whoami(request: Request) -> JSONResponse:
    """What the middleware put in the scope."""
    user = request.user
    return JSONResponse(
        {
            "authenticated": user.is_authenticated,
            "user": user.display_name,
            "scopes": request.auth.scopes,
        }
    )


@requires("authenticated")
async def starlette_requires(request: Request) -> JSONResponse:
    """Starlette's own decorator, fed by the middleware."""
    return JSONResponse({"user": request.user.id})


async def socket(websocket: WebSocket) -> None:
    """Tells the client who it is, then closes."""
    await websocket.accept()
    await websocket.send_json({"user": websocket.user.display_name})
    await websocket.close()


@login_required
@require_groups("admins")
async def stacked(request: Request) -> JSONResponse:
    """Two guards on one endpoint."""
    return JSONResponse({"user": request.user.id})


def starlette_app(sb: Sandbox) -> Starlette:
    """The guarded endpoints in a plain Starlette app."""
    routes: list[BaseRoute] = [Route(path, endpoint) for path, endpoint in guarded_endpoints()]
    routes += [
        Route("/whoami", whoami),
        Route("/requires", starlette_requires),
        Route("/stacked", stacked),
        WebSocketRoute("/ws", socket),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(AuthonomyMiddleware, config=config_for(sb), clock=sb.state.clock.now)
    return app


def fastapi_app(sb: Sandbox) -> FastAPI:
    """The guarded endpoints as FastAPI path operations, plus the dependency forms."""
    app = FastAPI()
    for path, endpoint in guarded_endpoints():
        app.get(path)(endpoint)
    app.get("/stacked")(stacked)
    _add_dependency_forms(app)
    app.add_middleware(AuthonomyMiddleware, config=config_for(sb), clock=sb.state.clock.now)
    return app


def _add_dependency_forms(app: FastAPI) -> None:
    @app.get("/dep/login", dependencies=[Depends(login_required)])
    async def dep_login() -> dict[str, str]:
        return {"user": "not asked"}

    @app.get("/dep/mfa")
    async def dep_mfa(
        user: Annotated[AuthonomyUser, Depends(require_policy("require-mfa"))],
    ) -> dict[str, str]:
        return {"user": user.id}

    @app.get("/dep/admins")
    def dep_admins(
        user: Annotated[AuthonomyUser, Depends(require_groups("admins"))],
    ) -> dict[str, str]:
        return {"user": user.id}

    @app.get("/dep/me")
    def dep_me(user: Annotated[AuthonomyUser, Depends(current_user)]) -> dict[str, str]:
        return {"user": user.id}


APP_FACTORIES = {"starlette": starlette_app, "fastapi": fastapi_app}
