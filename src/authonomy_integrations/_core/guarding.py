"""Guards, framework-free: ``login_required``, ``require_policy``, ``require_groups``,
``require_scopes``.

A guard decides whether a request may reach a view, and if not, which
:class:`~.web.Reply` answers it (302 to login, 401, 403, step-up, 503). The decision is
:meth:`~.routes.Routes.passes_now` on what is known already, else the
:meth:`~.routes.Routes.guard` flow. :class:`Guarding` holds everything about guards that
is the same in every framework: the decision, wrapping plain and ``async def`` views, the
dependency form (:meth:`Guarding.adepend`, for FastAPI), and the decorators with their
documentation. An adapter builds one :class:`Guarding` from a few callbacks that only
translate: where a request keeps its user, runtime and client address, how to run a flow
(blocking and awaited), how a reply becomes a response (or the exception its framework
answers with it), and, where views take their arguments their own way, how to find the
request among them.
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
#: A call's arguments to the request and the arguments the view is called with.
Bind = Callable[[tuple[Any, ...], dict[str, Any]], tuple[R, tuple[Any, ...], dict[str, Any]]]


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
    binder: Callable[[Callable[..., Any]], Bind[R]] | None = None
    """For one view, how a call finds the request and what the view is passed; ``None``:
    :attr:`request_of` on the positional arguments, all passed on."""
    in_async: Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]] | None = None
    """A plain view as a coroutine function (say, run in a thread pool), for frameworks
    that call every endpoint from async code; ``None``: a plain view gets a plain wrapper."""
    arespond: Callable[[R, Reply], Awaitable[Any]] | None = None
    """A refusal answered from async code, when that needs the request (closing a
    WebSocket); ``None``: :attr:`respond`."""
    refuse: Callable[[R, Reply], Exception] | None = None
    """The exception that carries a refusal to the framework, for :meth:`adepend`."""
    request_only: Callable[[Callable[..., Any]], bool] | None = None
    """Whether a view's one parameter is the request: its wrapper then takes and passes
    just that, with no argument packing on the way (the usual shape, and the fastest)."""
    finish: Callable[[Callable[..., Any], Callable[..., Any]], Callable[..., Any]] | None = None
    """``finish(view, wrapper)``: the wrapper made ready for the framework (a signature
    its dependency injection reads); ``None``: as it is."""

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

    async def adepend(self, request: R, requirement: Requirement) -> AuthonomyUser:
        """The guard as a dependency: the signed-in user when the caller meets
        ``requirement``, else raises :attr:`refuse` of the refusal."""
        pending = self._pending(request, requirement)
        if pending is not None:
            refusal = await self.arun(*pending)
            if refusal is not None:
                if self.refuse is None:
                    raise TypeError("this adapter's guards are decorators only")
                raise self.refuse(request, refusal)
        # Every requirement starts with "signed in": passing it means a user.
        return cast(AuthonomyUser, self.user(request))

    def guarded(self, view: F, requirement: Requirement) -> F:
        """``view`` behind ``requirement``: a refusal is answered instead of calling it."""
        if self.binder is not None:
            bind = self.binder(view)
        else:
            request_of = self.request_of

            def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                return request_of(args), args, kwargs

        if self.is_async(view):
            wrapper = self._async_guarded(view, view, bind, requirement)
        elif self.in_async is not None:
            wrapper = self._async_guarded(view, self.in_async(view), bind, requirement)
        else:
            wrapper = self._guarded(view, bind, requirement)
        return cast(F, wrapper if self.finish is None else self.finish(view, wrapper))

    def _async_guarded(
        self,
        view: Callable[..., Any],
        call: Callable[..., Awaitable[Any]],
        bind: Bind[R],
        requirement: Requirement,
    ) -> Callable[..., Any]:
        user, pend, arun = self.user, self._pending, self.arun
        answer = self.arespond or _respond_with(self.respond)
        # login_required: a signed-in user is all it takes, asked before anything else.
        suffices = _user_suffices(requirement)

        @functools.wraps(view)
        async def async_guarded(*args: Any, **kwargs: Any) -> Any:
            request, args, kwargs = bind(args, kwargs)
            if suffices and user(request) is not None:
                return await call(*args, **kwargs)
            pending = pend(request, requirement)
            refusal = None if pending is None else await arun(*pending)
            if refusal is None:
                return await call(*args, **kwargs)
            return await answer(request, refusal)

        if not (suffices and self.request_only is not None and self.request_only(view)):
            return async_guarded

        @functools.wraps(view)
        async def login_guarded(request: Any) -> Any:
            # ``async_guarded`` for a view of one parameter, the request, under
            # login_required: one call to find the user, then the view as it came.
            if user(request) is not None:
                return await call(request)
            return await async_guarded(request)

        return login_guarded

    def _guarded(
        self, view: Callable[..., Any], bind: Bind[R], requirement: Requirement
    ) -> Callable[..., Any]:
        check, respond, user = self.check, self.respond, self.user
        # login_required: a signed-in user is all it takes, asked before anything else.
        suffices = _user_suffices(requirement)

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            request, args, kwargs = bind(args, kwargs)
            if suffices and user(request) is not None:
                return view(*args, **kwargs)
            refusal = check(request, requirement)
            return respond(refusal) if refusal is not None else view(*args, **kwargs)

        return guarded

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


def _respond_with(respond: Callable[[Reply], Any]) -> Callable[[Any, Reply], Awaitable[Any]]:
    async def answer(request: Any, refusal: Reply) -> Any:
        return respond(refusal)

    return answer
