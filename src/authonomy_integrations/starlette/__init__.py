"""Authonomy for Starlette and FastAPI: middleware, guards and the webhook route.

::

    from authonomy_integrations.starlette import AuthonomyMiddleware, require_policy

    app.add_middleware(AuthonomyMiddleware, config=config)

    @app.get("/admin")
    @require_policy("require-mfa")
    async def admin(request: Request) -> dict[str, str]:
        return {"user": request.user.email}

FastAPI apps may use the guards as dependencies instead:
``Depends(require_policy("require-mfa"))``, ``Depends(login_required)`` and
``user: AuthonomyUser = Depends(current_user)``.
"""

# ruff: noqa: E402 -- the extra is checked before the imports that need it
from .._extras import require_extra

# Flask and Django installs have no Starlette: say which extra brings it.
require_extra("authonomy_integrations.starlette", "starlette", "starlette")

from ._account import access_token, end_sessions
from ._guards import (
    current_user,
    login_required,
    require_groups,
    require_policy,
    require_scopes,
)
from ._middleware import AuthonomyMiddleware
from ._webhooks import webhook_endpoint

__all__ = [
    "AuthonomyMiddleware",
    "access_token",
    "current_user",
    "end_sessions",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
    "webhook_endpoint",
]
