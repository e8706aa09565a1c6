"""Authonomy for Quart: sign-in routes, sessions, bearer tokens, policies and webhooks,
asyncio throughout.

::

    from authonomy_integrations.quart import Authonomy, current_user, require_policy

    authonomy = Authonomy(app, config=config)    # or Authonomy(config=config).init_app(app)

    @app.get("/admin")
    @require_policy("require-mfa")
    async def admin():
        return {"groups": sorted(current_user.groups)}

    @authonomy.webhooks.on("user.authenticated")
    async def on_login(event): ...

The extension's API is the Flask extension's. It serves ``login_path`` (GET),
``callback_path`` (GET), ``logout_path`` (POST), the sessions routes and, with a webhook
secret, ``webhook_path`` (POST). Every HTTP request and WebSocket handshake is
authenticated by its ``Authorization: Bearer`` token or session cookie before Quart
dispatches it; ``current_user`` is then the
:class:`~authonomy_integrations._core.user.AuthonomyUser` or an unauthenticated user.
``app.extensions["authonomy"]`` is the app's
:class:`~authonomy_integrations._runtime.AuthonomyAsync`.
"""

# ruff: noqa: E402 -- the extra is checked before the imports that need it
from .._extras import require_extra

require_extra("authonomy_integrations.quart", "quart", "quart")

from ._account import access_token, end_sessions
from ._context import current_user
from ._extension import Authonomy
from ._guards import login_required, require_groups, require_policy, require_scopes

__all__ = [
    "Authonomy",
    "access_token",
    "current_user",
    "end_sessions",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
]
