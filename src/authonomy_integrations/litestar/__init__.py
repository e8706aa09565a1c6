"""Authonomy for Litestar: a plugin, guards, the user as a dependency, the webhook route.

::

    from authonomy_integrations.litestar import AuthonomyPlugin, require_policy

    @get("/admin", guards=[require_policy("require-mfa")])
    async def admin(request: Request) -> dict[str, str]:
        return {"user": request.user.id}

    app = Litestar([admin], plugins=[AuthonomyPlugin(config=config)])

A handler may take the signed-in user as the ``current_user`` dependency instead:
``async def me(current_user: AuthonomyUser) -> ...`` (302 to login or 401 otherwise).
"""

# ruff: noqa: E402 -- the extra is checked before the imports that need it
from .._extras import require_extra

# Other frameworks' installs have no Litestar: say which extra brings it.
require_extra("authonomy_integrations.litestar", "litestar", "litestar")

from ._account import access_token, end_sessions
from ._guards import login_required, require_groups, require_policy, require_scopes
from ._plugin import AuthonomyPlugin
from ._webhooks import webhook_route

__all__ = [
    "AuthonomyPlugin",
    "access_token",
    "end_sessions",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
    "webhook_route",
]
