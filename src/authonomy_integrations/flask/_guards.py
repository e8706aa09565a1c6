"""View decorators: ``login_required``, ``require_policy``, ``require_groups``,
``require_scopes``.

Each works on plain and ``async def`` views. The check itself is synchronous and runs in
the thread that runs the view; the outcome is the core's reply for the case (login
redirect, 401, step-up redirect, 403, 503). The request is Flask's context-local one,
so the callbacks below ignore the request argument the core hands them.
"""

from __future__ import annotations

from .._core.effects import Flow
from .._core.guarding import Guarding
from .._core.web import Reply
from .._runtime import AuthonomySync
from ._context import client_ip, request_info, request_user, runtime, to_response

__all__ = ["login_required", "require_groups", "require_policy", "require_scopes"]


async def _arun(kit: AuthonomySync, flow: Flow[Reply | None]) -> Reply | None:
    # Flask runs an async view to its end in the request's thread: blocking here is fine.
    reply: Reply | None = kit.run(flow)
    return reply


_guarding: Guarding[None, AuthonomySync] = Guarding(
    user=lambda _: request_user(),
    runtime=lambda _: runtime(),
    client_ip=lambda _: client_ip(),
    info=lambda _: request_info(),
    run=AuthonomySync.run,
    arun=_arun,
    respond=to_response,
    request_of=lambda _args: None,
)
login_required = _guarding.login_required
"""``@login_required`` on a view: only signed-in users; a browser is sent to login and
back, an API call gets 401."""
require_policy = _guarding.require_policy
"""``@require_policy("require-mfa")`` on a view: only users who meet the Authonomy policy
of that name (from ``config.policies`` or fetched from the API). No user: as
``login_required``; a user who fails gets 403 ``POLICY_VIOLATED``, or, when a fresh login
can satisfy the policy (MFA, session age), a browser goes through step-up login."""
require_groups = _guarding.require_groups
"""``@require_groups("admins", ...)`` on a view: only users in at least one of the groups
(from the IdP); others get 403 ``POLICY_VIOLATED``. Naming no group is a
``ConfigurationError`` when the view is decorated."""
require_scopes = _guarding.require_scopes
"""``@require_scopes("reports:read", ...)`` on a view: only callers whose access token
grants every scope; others get 403 ``INSUFFICIENT_SCOPE``. No user: as
``login_required``."""
