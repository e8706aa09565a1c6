"""View decorators: ``login_required``, ``require_policy``, ``require_groups``,
``require_scopes``.

Each works on plain and ``async def`` views, under WSGI and ASGI. The decision is the
core's (login redirect, 401, step-up redirect, 403, 503); here it is run with whichever
runtime the middleware holds, from whichever side (thread or event loop) the view is on.
"""

from __future__ import annotations

from typing import cast

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.http import HttpRequest

from .._core.effects import Flow
from .._core.guarding import Guarding
from .._core.web import Reply
from .._runtime import AuthonomyAsync, AuthonomySync
from ._http import request_auth, request_info, to_response

__all__ = ["acheck", "check", "login_required", "require_groups", "require_policy"]
__all__ += ["require_scopes"]  # one line: the adapter's translation has a line budget

Runtime = AuthonomySync | AuthonomyAsync


def _run(runtime: Runtime, flow: Flow[Reply | None]) -> Reply | None:
    if isinstance(runtime, AuthonomyAsync):
        # A sync view under ASGI: the flow runs on the server's event loop.
        return cast(Reply | None, async_to_sync(runtime.run)(flow))
    return cast(Reply | None, runtime.run(flow))


async def _arun(runtime: Runtime, flow: Flow[Reply | None]) -> Reply | None:
    if isinstance(runtime, AuthonomyAsync):
        return cast(Reply | None, await runtime.run(flow))
    # An async view under WSGI: the blocking runtime runs in a worker thread.
    return cast(Reply | None, await sync_to_async(runtime.run, thread_sensitive=False)(flow))


_guarding: Guarding[HttpRequest, Runtime] = Guarding(
    user=lambda request: request_auth(request).user,
    runtime=lambda request: request_auth(request).runtime,
    client_ip=lambda request: request.META.get("REMOTE_ADDR"),
    info=request_info,
    run=_run,
    arun=_arun,
    respond=to_response,
    is_async=iscoroutinefunction,
)
check = _guarding.check
acheck = _guarding.acheck
login_required = _guarding.login_required
"""``@login_required`` on a view, sync or async: only signed-in users; a browser is sent
to login and back, an API call gets 401."""
require_policy = _guarding.require_policy
"""``@require_policy("require-mfa")`` on a view, sync or async: only users who meet the
Authonomy policy of that name (from ``config.policies`` or fetched from the API). No user:
as ``login_required``; a user who fails gets 403 ``POLICY_VIOLATED``, or, when a fresh
login can satisfy the policy (MFA, session age), a browser goes through step-up login."""
require_groups = _guarding.require_groups
"""``@require_groups("admins", ...)`` on a view, sync or async: only users in at least one
of the groups (from the IdP); others get 403 ``POLICY_VIOLATED``. Naming no group is a
``ConfigurationError`` when the view is decorated."""
require_scopes = _guarding.require_scopes
"""``@require_scopes("reports:read", ...)`` on a view, sync or async: only callers whose
access token grants every scope; others get 403 ``INSUFFICIENT_SCOPE``. No user: as
``login_required``."""
