"""Guards, framework-free: ``login_required``, ``require_policy``, ``require_groups``,
``require_scopes``.

A guard decides whether a request may reach a view, and if not, which
:class:`~.web.Reply` answers it (302 to login, 401, 403, step-up, 503). The decision is
:meth:`~.routes.Routes.passes_now` on what is known already, else the
:meth:`~.routes.Routes.guard` flow. :class:`Guarding` holds everything about guards that
is the same in every framework: the decision, wrapping plain and ``async def`` views, and
the decorators with their documentation. An adapter builds one :class:`Guarding` from a
few callbacks that only translate: where a request keeps its user, runtime and client
address, how to run a flow (blocking and awaited), and how a reply becomes a response.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from .effects import Flow
from .routes import RequestInfo, Requirement, Routes
from .user import AuthonomyUser
from .web import Reply

__all__ = ["Guarding", "Runtime"]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")
T = TypeVar("T", bound="Runtime")


class Runtime(Protocol):
    """What a guard needs of a runtime: the routes that decide."""

    @property
    def routes(self) -> Routes:
        """The runtime's :class:`~.routes.Routes`."""


def _user_suffices(requirement: Requirement) -> bool:
    return (
        requirement.policy_name is None
        and requirement.local_policy is None
        and not requirement.needed_scopes
    )


@dataclass(frozen=True, slots=True)
class Guarding(Generic[R, T]):
    """The guards of one adapter, whose requests are of type ``R`` and runtimes ``T``.

    Each callback translates; none decides. ``request_of`` finds the request among a
    view's arguments (an adapter whose request is a context-local ignores them).
    """

    user: Callable[[R], AuthonomyUser | None]
    """The request's signed-in user, ``None`` for none; raises when the kit is not set up."""
    runtime: Callable[[R], T]
    """The runtime serving the request; raises when the kit is not set up."""
    client_ip: Callable[[R], str | None]
    """The client's address as the server saw it (policies' ``ip_allowlist``)."""
    info: Callable[[R], RequestInfo]
    """The request read for the core; only called when memory cannot decide."""
    arun: Callable[[T, Flow[Reply | None]], Awaitable[Reply | None]]
    """Runs a guard flow to its end, awaited."""
    respond: Callable[[Reply], Any]
    """A refusal as the framework's response."""
    run: Callable[[T, Flow[Reply | None]], Reply | None] | None = None
    """Runs a guard flow to its end, blocking; ``None`` where guards run in async code only."""
    request_of: Callable[[tuple[Any, ...]], R] = operator.itemgetter(0)
    """The request among a view's positional arguments; by default the first."""
    is_async: Callable[[Callable[..., Any]], bool] = inspect.iscoroutinefunction
    """Whether a view is ``async def`` (a framework may mark views its own way)."""

    def _pending(self, request: R, requirement: Requirement) -> tuple[T, Flow[Reply | None]] | None:
        """``None`` when memory alone shows the caller meets ``requirement``; else the
        runtime and the flow that decides (and answers a refusal)."""
        user = self.user(request)
        # For login_required a signed-in user is all it takes: no runtime, no address.
        if user is not None and _user_suffices(requirement):
            return None
        runtime = self.runtime(request)
        routes = runtime.routes
        if routes.passes_now(requirement, user, self.client_ip(request)):
            return None
        return runtime, routes.guard(requirement, self.info(request), user)

    def check(self, request: R, requirement: Requirement) -> Reply | None:
        """``None`` when the caller meets ``requirement``, else the refusal (blocking)."""
        pending = self._pending(request, requirement)
        if pending is None:
            return None
        if self.run is None:
            raise TypeError("this adapter's guards check requests in async code only")
        return self.run(*pending)

    async def acheck(self, request: R, requirement: Requirement) -> Reply | None:
        """:meth:`check` for async code."""
        pending = self._pending(request, requirement)
        return None if pending is None else await self.arun(*pending)

    def guarded(self, view: F, requirement: Requirement) -> F:
        """``view`` behind ``requirement``: a refusal is answered instead of calling it."""
        respond, request_of = self.respond, self.request_of
        if self.is_async(view):
            acheck = self.acheck

            @functools.wraps(view)
            async def async_guarded(*args: Any, **kwargs: Any) -> Any:
                refusal = await acheck(request_of(args), requirement)
                return respond(refusal) if refusal is not None else await view(*args, **kwargs)

            return cast(F, async_guarded)
        check = self.check

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            refusal = check(request_of(args), requirement)
            return respond(refusal) if refusal is not None else view(*args, **kwargs)

        return cast(F, guarded)

    def login_required(self, view: F) -> F:
        """Only signed-in users: a browser is sent to login and back, an API call gets 401."""
        return self.guarded(view, Requirement.signed_in())

    def require_policy(self, name: str) -> Callable[[F], F]:
        """Only users who meet the Authonomy policy ``name`` (local or fetched from the API).

        No user: as :func:`login_required`. A user who fails: 403 ``POLICY_VIOLATED``, or a
        step-up login for a browser when a fresh sign-in can satisfy the policy.
        """
        requirement = Requirement.policy(name)
        return lambda view: self.guarded(view, requirement)

    def require_groups(self, *groups: str) -> Callable[[F], F]:
        """Only users in at least one of ``groups``; others get 403 ``POLICY_VIOLATED``.

        Raises :class:`~authonomy_integrations._errors.ConfigurationError` at decoration when
        no group is named.
        """
        requirement = Requirement.groups(*groups)
        return lambda view: self.guarded(view, requirement)

    def require_scopes(self, *scopes: str) -> Callable[[F], F]:
        """Only callers whose access token grants every one of ``scopes`` (a bearer
        token's, or the session's); others get 403 ``INSUFFICIENT_SCOPE``.

        No user: as :func:`login_required`. Raises
        :class:`~authonomy_integrations._errors.ConfigurationError` at decoration when no
        scope is named or one is not a scope token.
        """
        requirement = Requirement.scopes(*scopes)
        return lambda view: self.guarded(view, requirement)
