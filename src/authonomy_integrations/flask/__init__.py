"""Authonomy for Flask: sign-in routes, sessions, bearer tokens, policies and webhooks.

::

    from authonomy_integrations.flask import Authonomy, current_user, require_policy

    authonomy = Authonomy(app, config=config)    # or Authonomy(config=config).init_app(app)

    @app.get("/admin")
    @require_policy("require-mfa")
    def admin():
        return {"groups": sorted(current_user.groups)}

    @authonomy.webhooks.on("user.authenticated")
    def on_login(event): ...

The extension serves ``login_path`` (GET), ``callback_path`` (GET), ``logout_path``
(POST) and, with a webhook secret, ``webhook_path`` (POST). Before each view it reads an
``Authorization: Bearer`` token or the session cookie (refreshing the session when due);
``current_user`` is then the :class:`~authonomy_integrations._core.user.AuthonomyUser`
or an unauthenticated user. ``app.extensions["authonomy"]`` is the app's
:class:`~authonomy_integrations._runtime.AuthonomySync`.
"""

# ruff: noqa: E402 -- the extras are checked before the imports that need them
from .._extras import require_extra

require_extra("authonomy_integrations.flask", "flask", "flask")

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
