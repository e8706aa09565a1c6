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
require_policy = _guarding.require_policy
require_groups = _guarding.require_groups
require_scopes = _guarding.require_scopes
