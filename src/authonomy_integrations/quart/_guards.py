"""View decorators: ``login_required``, ``require_policy``, ``require_groups``,
``require_scopes``.

Each works on ``async def`` views and plain ones (run in a worker thread, as Quart runs
them) of HTTP and WebSocket routes. The outcome of a refusal is the core's reply for the
case (login redirect, 401, step-up redirect, 403, 503), or on a WebSocket the close code
that stands for it. The request is Quart's context-local one, so the callbacks below
ignore the request argument the core hands them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import Response, current_app, has_websocket_context, websocket

from .._core.guarding import Guarding
from .._core.web import Reply
from .._runtime import AuthonomyAsync
from ._asgi import client_ip, close_code
from ._context import connection, request_info, request_user, runtime, to_response

__all__ = ["login_required", "require_groups", "require_policy", "require_scopes"]


def _in_async(view: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """A plain view as Quart runs it: in a worker thread, the contexts copied along."""

    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        return await current_app.ensure_async(view)(*args, **kwargs)

    return in_thread


async def _refused(_: None, reply: Reply) -> Response | None:
    """A refusal's response; a WebSocket handshake is closed with its code instead."""
    if has_websocket_context():
        await websocket.close(close_code(reply))
        return None
    return to_response(reply)


_guarding: Guarding[None, AuthonomyAsync] = Guarding(
    user=lambda _: request_user(),
    runtime=lambda _: runtime(),
    client_ip=lambda _: client_ip(connection().scope),
    info=lambda _: request_info(),
    arun=AuthonomyAsync.run,
    respond=to_response,
    request_of=lambda _args: None,
    in_async=_in_async,
    arespond=_refused,
)
login_required = _guarding.login_required
"""``@login_required`` on a view: only signed-in users; a browser is sent to login and
back, an API call gets 401, a WebSocket handshake is closed with 1008."""
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
