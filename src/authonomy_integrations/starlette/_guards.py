"""Guards: ``login_required``, ``require_policy``, ``require_groups``, ``require_scopes``
and ``current_user``.

A guard is a check on the request that either passes or yields a
:class:`~authonomy_integrations._core.web.Reply` (302 to login, 401, 403, step-up, 503).
Each guard works two ways:

* as a decorator on a Starlette endpoint or a FastAPI path operation: the wrapper runs
  the check and answers with the reply, or calls the endpoint (sync endpoints in the
  thread pool);
* as a FastAPI dependency, ``Depends(login_required)``: the check raises an exception
  the framework answers, ``WebSocketException`` on a WebSocket and
  :class:`~._refusals.GuardDenied` over HTTP (see ``_refusals`` for how it reaches the
  client wherever the middleware sits).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import WebSocketException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from .._core.guarding import Bind, Guarding
from .._core.routes import RequestInfo, Requirement
from .._core.user import AuthonomyUser
from .._core.web import Reply
from .._runtime import AuthonomyAsync
from ._asgi import PREFIX_KEY, KitCredentials, client_ip, response, target
from ._openapi import with_security
from ._refusals import GuardDenied, websocket_close_code

__all__ = [
    "Guard",
    "GuardDenied",
    "current_user",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
    "runtime_of",
    "websocket_close_code",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Keyword under which FastAPI hands the request to a wrapper whose endpoint takes none.
_INJECTED = "authonomy_request"


def runtime_of(connection: HTTPConnection) -> AuthonomyAsync:
    """The runtime the middleware put in the scope; a clear error when it is missing."""
    auth = connection.scope.get("auth")
    if not isinstance(auth, KitCredentials):
        raise RuntimeError(
            "AuthonomyMiddleware is not installed, or a middleware inside it replaced "
            "request.auth: app.add_middleware(AuthonomyMiddleware, config=config), added "
            "last so that it runs first"
        )
    runtime: AuthonomyAsync = auth.runtime
    return runtime


def _user(connection: HTTPConnection) -> AuthonomyUser | None:
    # A user without the middleware's runtime is none: the guard then says what to install.
    scope = connection.scope
    user = scope.get("user")
    # ``_signed_in``, inline: this runs on every guarded request.
    if isinstance(user, AuthonomyUser) and type(scope.get("auth")) is KitCredentials:
        return user
    return None


def _info(connection: HTTPConnection) -> RequestInfo:
    scope = connection.scope
    method: str = scope.get("method", "GET")  # a WebSocket handshake has none
    prefix: str = scope.get(PREFIX_KEY, "")
    return RequestInfo(
        method, connection.headers, target(scope), {}, client_ip(scope), prefix=prefix
    )


def _bind(endpoint: Callable[..., Any]) -> Bind[HTTPConnection]:
    """How a call of ``endpoint``'s wrapper finds the request (see :class:`_Arguments`)."""
    signature = _evaluated_signature(endpoint)
    arguments = _Arguments(_request_parameter(signature), positional=_positional(signature))
    return arguments.split


def _finish(endpoint: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """The wrapper with the endpoint's evaluated signature, plus a request parameter
    FastAPI fills when the endpoint takes none."""
    signature = _evaluated_signature(endpoint)
    if _request_parameter(signature) is None:
        signature = _with_request(signature)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    return wrapper


def _evaluated_signature(endpoint: Callable[..., Any]) -> inspect.Signature:
    """``endpoint``'s signature, its annotations evaluated in the endpoint's own module.

    FastAPI before 0.124 evaluates a wrapper's text annotations (``from __future__ import
    annotations``) in the wrapper's module, this one, where the endpoint's names (its
    response class, its models) are unknown. Names only a type checker sees stay text.
    """
    try:
        return inspect.signature(endpoint, eval_str=True)
    except NameError:
        return inspect.signature(endpoint)


def _refusal(connection: HTTPConnection, reply: Reply) -> Exception:
    """The exception a dependency raises, one the framework answers (see ``_refusals``)."""
    if isinstance(connection, WebSocket):
        return WebSocketException(websocket_close_code(reply))
    return GuardDenied(reply)


#: The core's guards on this adapter's connections; endpoints always run in async code.
_guarding: Guarding[HTTPConnection, AuthonomyAsync] = Guarding(
    user=_user,
    runtime=runtime_of,
    client_ip=lambda connection: client_ip(connection.scope),
    info=_info,
    arun=AuthonomyAsync.run,
    respond=response,
    binder=_bind,
    in_async=lambda endpoint: _caller(endpoint),
    arespond=lambda connection, reply: _refused(connection, reply),
    refuse=_refusal,
    request_only=lambda endpoint: _request_only(_evaluated_signature(endpoint)),
    finish=_finish,
)


async def _refused(connection: HTTPConnection, reply: Reply) -> Response | None:
    """A refusal's response, or ``None`` once a WebSocket is closed instead."""
    if isinstance(connection, WebSocket):
        await connection.close(code=websocket_close_code(reply))
        return None
    return response(reply)


def _takes_request(parameter: inspect.Parameter) -> bool:
    annotation = parameter.annotation
    if isinstance(annotation, type):
        return issubclass(annotation, HTTPConnection)
    if isinstance(annotation, str):
        return annotation.rsplit(".", 1)[-1] in ("Request", "HTTPConnection")
    return parameter.name == "request" and annotation is inspect.Parameter.empty


def _request_parameter(signature: inspect.Signature) -> str | None:
    """The name of the endpoint's request parameter (by annotation, else by name)."""
    for parameter in signature.parameters.values():
        if _takes_request(parameter):
            return parameter.name
    return None


def _with_request(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` plus a keyword-only ``Request``, so FastAPI passes the request."""
    injected = inspect.Parameter(_INJECTED, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
    parameters = list(signature.parameters.values())
    position = len(parameters)
    if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
        position -= 1
    parameters.insert(position, injected)
    return signature.replace(parameters=parameters)


def _request_only(signature: inspect.Signature) -> bool:
    """Whether the endpoint's one parameter is the request, named ``request`` and
    annotated as one (FastAPI then passes it as ``request=``)."""
    parameters = list(signature.parameters.values())
    return (
        len(parameters) == 1
        and parameters[0].name == "request"
        and parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        and _takes_request(parameters[0])
    )


def _positional(signature: inspect.Signature) -> bool:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(
        p.kind in kinds or p.kind is inspect.Parameter.VAR_POSITIONAL
        for p in signature.parameters.values()
    )


class Guard:
    """A request check usable as a decorator and as a FastAPI dependency.

    ``@guard`` wraps an endpoint; ``Depends(guard)`` runs the check and returns the
    signed-in :class:`~authonomy_integrations._core.user.AuthonomyUser`. Both are the
    core's guard (:class:`~authonomy_integrations._core.guarding.Guarding`).
    """

    __wrapped__: Callable[..., Any]
    __signature__: inspect.Signature

    def __init__(self, requirement: Requirement) -> None:
        self._requirement = requirement
        self._description = requirement.description
        # FastAPI reads a dependency's parameters and whether to await it through
        # ``inspect.unwrap``: point it at the coroutine function that takes the request
        # (and declares the bearer scheme and the scopes for the OpenAPI document).
        self.__wrapped__ = with_security(self._dependency, requirement.needed_scopes)
        # FastAPI before 0.124 resolves a dependency's string annotations (this module's,
        # under ``from __future__ import annotations``) in the dependency's own
        # ``__globals__``, which an instance lacks: unresolved, ``request`` became a query
        # parameter and every call a 422. The evaluated signature needs no resolving.
        self.__signature__ = inspect.signature(self.__wrapped__, eval_str=True)

    def __repr__(self) -> str:
        return self._description

    # Annotated HTTPConnection, not Request: FastAPI then hands over the WebSocket of a
    # WebSocket route too.
    async def _dependency(self, request: HTTPConnection) -> AuthonomyUser:
        return await _guarding.adepend(request, self._requirement)

    @overload
    def __call__(self, endpoint: F, /) -> F: ...

    @overload
    def __call__(self, *, request: HTTPConnection) -> Awaitable[AuthonomyUser]: ...

    def __call__(
        self, endpoint: Any = None, request: HTTPConnection | None = None, **_security: Any
    ) -> Any:
        """Decorate ``endpoint``, or (called by FastAPI with ``request=``) run the check."""
        if request is not None:
            return self._checked(request)
        if isinstance(endpoint, HTTPConnection):
            return self._checked(endpoint)
        if not callable(endpoint):
            raise TypeError(f"{self!r} decorates an endpoint; got {endpoint!r}")
        return _guarding.guarded(endpoint, self._requirement)

    def _checked(self, request: HTTPConnection) -> Any:
        """The dependency's awaitable; run to its end when called off the event loop.

        FastAPI before 0.124 awaits a callable instance only when its ``__call__`` is a
        coroutine function, and calls this one in a worker thread: the coroutine handed
        back there would never run, and the route would pass everyone. From that thread
        the check runs on the event loop and its user (or refusal) is the result.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return anyio.from_thread.run(self._dependency, request)
        return self._dependency(request)


@dataclass(frozen=True, slots=True)
class _Arguments:
    """How a wrapper finds the request in its arguments and what it passes on."""

    request_name: str | None
    positional: bool

    def split(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[HTTPConnection, tuple[Any, ...], dict[str, Any]]:
        """The request, and the arguments for the endpoint."""
        if args:  # Starlette hands the request over positionally, and nothing else
            if self.positional:
                return args[0], args, kwargs
            if self.request_name is not None:
                return args[0], (), {self.request_name: args[0]}
            return args[0], (), kwargs
        # FastAPI passes every parameter by name, ours too when the endpoint has none.
        if self.request_name is not None:
            return kwargs[self.request_name], (), kwargs
        return kwargs.pop(_INJECTED), (), kwargs


def _caller(endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return in_thread


login_required = Guard(Requirement.signed_in())
"""Only signed-in users: others get a 302 to login (browser) or a 401.

``@login_required`` on an endpoint, or ``Depends(login_required)`` in FastAPI (the
dependency's value is the user).
"""
# The string above is what the API reference reads (it reads the source, never runs it);
# ``help(login_required)`` reads this copy of it.
login_required.__doc__ = """Only signed-in users: others get a 302 to login (browser) or a 401.

``@login_required`` on an endpoint, or ``Depends(login_required)`` in FastAPI (the
dependency's value is the user).
"""


def require_policy(name: str) -> Guard:
    """Only users who meet the Authonomy policy ``name`` (fetched, or from ``config.policies``).

    A signed-out user is sent to login; a user who fails gets 403 ``POLICY_VIOLATED``, or,
    when a fresh login can cure it (MFA, session age) and this is a browser, a step-up
    login that returns to this URL. ``@require_policy("require-mfa")`` or
    ``Depends(require_policy("require-mfa"))``.
    """
    return Guard(Requirement.policy(name))


def require_groups(*groups: str) -> Guard:
    """Only users in at least one of ``groups`` (from the IdP); others get 403.

    Evaluated as a local ``allowed_groups`` policy, so the outcome and the 403 body are
    those of any other policy. Raises ``ConfigurationError`` when no group is named.
    """
    return Guard(Requirement.groups(*groups))


def require_scopes(*scopes: str) -> Guard:
    """Only callers whose access token grants every one of ``scopes``; others get 403
    ``INSUFFICIENT_SCOPE`` (a bearer caller with RFC 6750's ``insufficient_scope``
    challenge). A signed-out caller is treated as by ``login_required``. As a FastAPI
    dependency, the scopes appear in the OpenAPI document.
    """
    return Guard(Requirement.scopes(*scopes))


async def _current_user(request: HTTPConnection) -> AuthonomyUser:
    """FastAPI dependency: the signed-in user; a signed-out request gets 302 or 401.

    ``user: AuthonomyUser = Depends(current_user)``, on HTTP and WebSocket routes (a
    refused WebSocket handshake is closed with 1008).
    """
    return await login_required._dependency(request)


current_user = with_security(_current_user, name="current_user")
"""FastAPI dependency: the signed-in user; a signed-out request gets 302 or 401.

``user: AuthonomyUser = Depends(current_user)``, on HTTP and WebSocket routes (a refused
WebSocket handshake is closed with 1008).
"""
