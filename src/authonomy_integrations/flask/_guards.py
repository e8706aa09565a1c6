"""View decorators: ``login_required``, ``require_policy``, ``require_groups``.

Each works on plain and ``async def`` views. The check itself is synchronous and runs in
the thread that runs the view; the outcome is the core's reply for the case (login
redirect, 401, step-up redirect, 403, 503).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response

from ..core.routes import Requirement
from ._context import client_ip, request_info, request_user, runtime, to_response

__all__ = ["login_required", "require_groups", "require_policy"]

F = TypeVar("F", bound=Callable[..., Any])
Check = Callable[[], Response | None]


def _guarded(view: F, check: Check) -> F:
    """``view`` behind ``check``: a response from ``check`` is returned instead."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_guarded(*args: Any, **kwargs: Any) -> Any:
            refusal = check()
            return refusal if refusal is not None else await view(*args, **kwargs)

        return cast(F, async_guarded)

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        refusal = check()
        return refusal if refusal is not None else view(*args, **kwargs)

    return cast(F, guarded)


def _check(requirement: Requirement) -> Check:
    def check() -> Response | None:
        kit = runtime()
        user = request_user()
        if kit.routes.passes_now(requirement, user, client_ip()):
            return None
        reply = kit.run(kit.routes.guard(requirement, request_info(), user))
        return to_response(reply) if reply is not None else None

    return check


_check_signed_in = _check(Requirement.signed_in())


def _signed_in() -> Response | None:
    # A signed-in user is all it takes: the full check only runs to refuse.
    return None if request_user() is not None else _check_signed_in()


def login_required(view: F) -> F:
    """Only signed-in users: a browser is sent to login and back, an API call gets 401."""
    return _guarded(view, _signed_in)


def require_policy(name: str) -> Callable[[F], F]:
    """Only users who meet the Authonomy policy ``name`` (local or fetched from the API).

    No user: as :func:`login_required`. A user who fails: 403 ``POLICY_VIOLATED``, or a
    step-up login for a browser when a fresh sign-in can satisfy the policy.
    """
    check = _check(Requirement.policy(name))
    return lambda view: _guarded(view, check)


def require_groups(*groups: str) -> Callable[[F], F]:
    """Only users in at least one of ``groups``; others get 403 ``POLICY_VIOLATED``.

    Raises :class:`~authonomy_integrations.errors.ConfigurationError` at decoration when
    no group is named.
    """
    check = _check(Requirement.groups(*groups))
    return lambda view: _guarded(view, check)
