"""FastAPI apps using the kit's guards as dependencies document them: a bearer scheme in
``components.securitySchemes`` and, per guarded operation, a ``security`` requirement with
the guard's scopes (``/docs`` then has an Authorize button and a lock per route). The
document only describes: the kit's own checks still decide."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Security
from fastapi.security import HTTPBearer

from authonomy_integrations import AuthonomyUser
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    current_user,
    login_required,
    require_groups,
    require_scopes,
)

from ..browsing import API, bearer
from ..serving import serve
from .flows import token_with


def _app(sb: Sandbox, url: str) -> FastAPI:
    app = FastAPI()

    @app.get("/reports", dependencies=[Depends(require_scopes("reports:read", "reports:list"))])
    async def reports() -> dict[str, str]:
        return {"ok": "reports"}

    @app.get("/me")
    async def me(user: Annotated[AuthonomyUser, Depends(login_required)]) -> dict[str, str]:
        return {"id": user.id}

    @app.get("/admins", dependencies=[Security(require_groups("admins"))])
    async def admins() -> dict[str, str]:
        return {"ok": "admins"}

    @app.get("/profile")
    async def profile(user: Annotated[AuthonomyUser, Depends(current_user)]) -> dict[str, str]:
        return {"id": user.id}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {"ok": "open"}

    app.add_middleware(AuthonomyMiddleware, config=sb.config(app_url=url))
    return app


def _document(url: str) -> dict[str, Any]:
    answer = httpx.get(url + "/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _lists_http_scheme_scopes() -> bool:
    """Whether this FastAPI lists the scopes of an HTTP (not OAuth2) scheme's requirement.

    Older releases leave them out, as OpenAPI 3.0 asks of schemes other than OAuth2 and
    OpenID Connect; the kit's scheme is HTTP bearer, so there the lock has no scopes."""
    probe = FastAPI()

    @probe.get("/", dependencies=[Security(HTTPBearer(), scopes=["probe"])])
    async def root() -> None:
        return None

    requirement = probe.openapi()["paths"]["/"]["get"]["security"]
    return bool(requirement == [{"HTTPBearer": ["probe"]}])


def test_guards_as_dependencies_put_bearer_scheme_and_scopes_in_openapi(sb: Sandbox) -> None:
    with serve(lambda url: _app(sb, url)) as url:
        document = _document(url)
    schemes = document["components"]["securitySchemes"]
    assert list(schemes.values()) == [
        {
            "type": "http",
            "scheme": "bearer",
            "description": schemes[next(iter(schemes))]["description"],
        }
    ]
    name = next(iter(schemes))
    security = {path: ops["get"].get("security") for path, ops in document["paths"].items()}
    scopes = ["reports:read", "reports:list"] if _lists_http_scheme_scopes() else []
    assert security["/reports"] == [{name: scopes}]
    assert security["/me"] == [{name: []}]
    assert security["/admins"] == [{name: []}]
    assert security["/profile"] == [{name: []}]
    assert security["/open"] is None  # no guard, no lock


def test_the_documented_scheme_decides_nothing_the_kit_still_does(sb: Sandbox) -> None:
    without = token_with(sb)["access_token"]
    with_scopes = token_with(sb, "reports:read", "reports:list")["access_token"]
    with serve(lambda url: _app(sb, url)) as url, httpx.Client(base_url=url) as http:
        assert http.get("/reports", headers=API).status_code == 401
        assert http.get("/reports", headers=bearer(without)).status_code == 403
        assert http.get("/reports", headers=bearer(with_scopes)).json() == {"ok": "reports"}
        assert http.get("/me", headers=bearer(without)).json() == {"id": "user_bob"}
        assert http.get("/profile", headers=bearer(without)).json() == {"id": "user_bob"}
        assert http.get("/profile", headers=API).status_code == 401
        # Another scheme is not ours: the kit answers it as nobody, whatever FastAPI reads.
        basic = {**API, "Authorization": "Basic Ym9iOnNlY3JldA=="}
        assert http.get("/me", headers=basic).status_code == 401
        assert http.get("/open", headers=basic).json() == {"ok": "open"}
