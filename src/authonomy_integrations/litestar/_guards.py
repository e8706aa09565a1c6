"""Guards: ``login_required``, ``require_policy``, ``require_groups``, ``require_scopes``,
and the ``current_user`` dependency.

Each is a Litestar guard, ``guards=[login_required]``, running the core's guard
(:class:`~authonomy_integrations._core.guarding.Guarding`). A guard cannot return a
response, so a refusal is raised: on a WebSocket as Litestar's ``WebSocketException``
with the close code (before ``accept``, a 403 handshake), over HTTP as :class:`Refused`,
which carries the kit's reply to the exception handler the plugin registers.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import WebSocketException
from litestar.handlers import BaseRouteHandler
from litestar.response.base import ASGIResponse
from litestar.types import Scope

from .._core.guarding import Guarding
from .._core.routes import RequestInfo, Requirement
from .._core.user import AuthonomyUser
from .._core.web import Reply
from .._runtime import AuthonomyAsync
from ._asgi import Credentials, client_ip, reply_response, request_info
from ._middleware import close_code

__all__ = [
    "LitestarGuard",
    "Refused",
    "answer_refused",
    "current_user",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
    "runtime_of",
]

Connection = ASGIConnection[Any, Any, Any, Any]


class Refused(Exception):
    """A guard refused an HTTP request; ``reply`` is the answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"request refused with HTTP {reply.status}")
        self.reply = reply


class _RefusalResponse(Response[bytes]):
    """A refusal written out exactly as the kit's reply: status, every header, body."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body, status_code=reply.status)
        self.reply = reply

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        return reply_response(self.reply)


def answer_refused(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Litestar's exception handler for :class:`Refused`: the refusal's response."""
    return _RefusalResponse(cast(Refused, exc).reply)


def runtime_of(connection: Connection) -> AuthonomyAsync:
    """The runtime the plugin put in the scope; a clear error when it is missing."""
    auth = connection.scope.get("auth")
    if not isinstance(auth, Credentials):
        raise RuntimeError(
            "AuthonomyPlugin is not installed, or a middleware replaced request.auth: "
            "Litestar(..., plugins=[AuthonomyPlugin(config=config)])"
        )
    runtime: AuthonomyAsync = auth.runtime
    return runtime


def _user(connection: Connection) -> AuthonomyUser | None:
    # A user without the plugin's runtime is none: the guard then says what to install.
    scope = connection.scope
    user = scope.get("user")
    if isinstance(user, AuthonomyUser) and type(scope.get("auth")) is Credentials:
        return user
    return None


def _info(connection: Connection) -> RequestInfo:
    return request_info(connection.scope, None)


def _refusal(connection: Connection, reply: Reply) -> Exception:
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        return WebSocketException(detail="refused", code=close_code(reply.status))
    return Refused(reply)


#: The core's guards on Litestar's connections, run as Litestar guards (async only).
_guarding: Guarding[Connection, AuthonomyAsync] = Guarding(
    user=_user,
    runtime=runtime_of,
    client_ip=lambda connection: client_ip(connection.scope),
    info=_info,
    arun=AuthonomyAsync.run,
    respond=reply_response,
    refuse=_refusal,
)


class LitestarGuard:
    """A Litestar guard: ``guards=[guard]`` on an app, router, controller or handler."""

    def __init__(self, requirement: Requirement) -> None:
        self._requirement = requirement

    def __repr__(self) -> str:
        return self._requirement.description

    async def __call__(self, connection: Connection, handler: BaseRouteHandler) -> None:
        """Pass a caller who meets the requirement; raise the refusal otherwise."""
        await _guarding.adepend(connection, self._requirement)


class _LoginRequired(LitestarGuard):
    """``login_required``: the core's guard, asked only when nobody is signed in."""

    def __init__(self) -> None:
        super().__init__(Requirement.signed_in())

    async def __call__(self, connection: Connection, handler: BaseRouteHandler) -> None:
        """Pass a signed-in caller; anyone else meets the core's guard (its refusal)."""
        # For login_required a signed-in user is all it takes (the core's guards take
        # the same shortcut); ``_user``, inline: this runs on every guarded request.
        scope = connection.scope
        if isinstance(scope.get("user"), AuthonomyUser) and type(scope.get("auth")) is Credentials:
            return
        await _guarding.adepend(connection, self._requirement)


login_required: LitestarGuard = _LoginRequired()
"""Only signed-in users: ``guards=[login_required]`` (a 302 to login for a browser, a 401
for an API call, close code 1008 for a WebSocket)."""
# The same text for ``help()``, which reads the object's own ``__doc__``.
login_required.__doc__ = """Only signed-in users: others get a 302 to login (browser) or a
401 (API call); a WebSocket is closed with 1008. ``guards=[login_required]``."""


def require_policy(name: str) -> LitestarGuard:
    """Only users who meet the Authonomy policy ``name`` (fetched, or from ``config.policies``).

    A signed-out user is sent to login; a user who fails gets 403 ``POLICY_VIOLATED``, or,
    when a fresh login can cure it (MFA, session age) and this is a browser, a step-up
    login that returns to this URL. ``guards=[require_policy("require-mfa")]``.
    """
    return LitestarGuard(Requirement.policy(name))


def require_groups(*groups: str) -> LitestarGuard:
    """Only users in at least one of ``groups`` (from the IdP); others get 403.

    Evaluated as a local ``allowed_groups`` policy, so the outcome and the 403 body are
    those of any other policy. Raises ``ConfigurationError`` when no group is named.
    """
    return LitestarGuard(Requirement.groups(*groups))


def require_scopes(*scopes: str) -> LitestarGuard:
    """Only callers whose access token grants every one of ``scopes``; others get 403
    ``INSUFFICIENT_SCOPE`` (a bearer caller with RFC 6750's ``insufficient_scope``
    challenge). A signed-out caller is treated as by ``login_required``.
    """
    return LitestarGuard(Requirement.scopes(*scopes))


async def current_user(scope: Scope) -> AuthonomyUser:
    """The ``current_user`` dependency: the signed-in user; a signed-out caller is
    refused as by :data:`login_required`."""
    return await _guarding.adepend(ASGIConnection(scope), Requirement.signed_in())
