"""View decorators: ``login_required``, ``require_policy``, ``require_groups``.

Each works on plain and ``async def`` views, under WSGI and ASGI. The decision is the
core's (login redirect, 401, step-up redirect, 403, 503); here it is run with whichever
runtime the middleware holds, from whichever side (thread or event loop) the view is on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.http import HttpRequest

from ..core.effects import Flow
from ..core.routes import Requirement
from ..core.web import Reply
from ..runtime import AuthonomyAsync, AuthonomySync
from ._http import request_auth, request_info, to_response

__all__ = ["acheck", "check", "login_required", "require_groups", "require_policy"]

F = TypeVar("F", bound=Callable[..., Any])


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _pending(
    request: HttpRequest, requirement: Requirement
) -> tuple[AuthonomySync | AuthonomyAsync, Flow[Reply | None]] | None:
    """``None`` when memory alone shows the caller meets ``requirement``; else the runtime
    and the core's guard flow that decides (and answers a refusal)."""
    found = request_auth(request)
    runtime, user = found.runtime, found.user
    if runtime.routes.passes_now(requirement, user, _client_ip(request)):
        return None
    return runtime, runtime.routes.guard(requirement, request_info(request), user)


def check(request: HttpRequest, requirement: Requirement) -> Reply | None:
    """``None`` when the caller meets ``requirement``, else the core's refusal (blocking)."""
    pending = _pending(request, requirement)
    if pending is None:
        return None
    runtime, flow = pending
    if isinstance(runtime, AuthonomyAsync):
        # A sync view under ASGI: the flow runs on the server's event loop.
        reply: Reply | None = async_to_sync(runtime.run)(flow)
        return reply
    return cast(Reply | None, runtime.run(flow))


async def acheck(request: HttpRequest, requirement: Requirement) -> Reply | None:
    """:func:`check` for async code."""
    pending = _pending(request, requirement)
    if pending is None:
        return None
    runtime, flow = pending
    if isinstance(runtime, AuthonomyAsync):
        reply: Reply | None = await runtime.run(flow)
        return reply
    # An async view under WSGI: the blocking runtime runs in a worker thread.
    return cast(Reply | None, await sync_to_async(runtime.run, thread_sensitive=False)(flow))


def _guarded(view: F, requirement: Requirement) -> F:
    """``view`` behind ``requirement``: a refusal is answered instead of calling it."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = await acheck(request, requirement)
            if refusal is not None:
                return to_response(refusal)
            return await view(request, *args, **kwargs)

        return cast(F, async_guarded)

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        refusal = check(request, requirement)
        return to_response(refusal) if refusal is not None else view(request, *args, **kwargs)

    return cast(F, guarded)


def login_required(view: F) -> F:
    """Only signed-in users: a browser is sent to login and back, an API call gets 401."""
    return _guarded(view, Requirement.signed_in())


def require_policy(name: str) -> Callable[[F], F]:
    """Only users who meet the Authonomy policy ``name`` (local or fetched from the API).

    No user: as :func:`login_required`. A user who fails: 403 ``POLICY_VIOLATED``, or a
    step-up login for a browser when a fresh sign-in can satisfy the policy.
    """
    requirement = Requirement.policy(name)
    return lambda view: _guarded(view, requirement)


def require_groups(*groups: str) -> Callable[[F], F]:
    """Only users in at least one of ``groups``; others get 403 ``POLICY_VIOLATED``.

    Raises :class:`~authonomy_integrations.errors.ConfigurationError` at decoration when
    no group is named.
    """
    requirement = Requirement.groups(*groups)
    return lambda view: _guarded(view, requirement)
