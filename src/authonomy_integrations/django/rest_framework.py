"""Django REST framework classes on top of :class:`AuthonomyMiddleware`.

::

    from authonomy_integrations.django.rest_framework import (
        AuthonomyAuthentication, IsAuthonomyAuthenticated, RequireGroups, RequirePolicy,
        RequireScopes,
    )

    class AdminView(APIView):
        authentication_classes = [AuthonomyAuthentication]
        permission_classes = [RequirePolicy("require-mfa")]

The middleware has already authenticated the request (and refused a bad bearer token);
``AuthonomyAuthentication`` hands its user to the framework, with the user's scopes as
``request.auth``. The permissions run the same checks as the view decorators and refuse
with the kit's error envelope: 401 with ``WWW-Authenticate: Bearer``, 403
``POLICY_VIOLATED``, 503 with ``Retry-After``. Without ``django.contrib.auth`` set
``REST_FRAMEWORK = {"UNAUTHENTICATED_USER": None}`` (the framework's default anonymous
user lives in ``django.contrib.auth``).
"""

# ruff: noqa: E402 -- the extras are checked before the imports that need them
from __future__ import annotations

from .._extras import require_extra

require_extra("authonomy_integrations.django.rest_framework", "drf", "rest_framework")

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .._core import web
from .._core.caller import by_session_cookie
from .._core.routes import Requirement
from .._core.user import AuthonomyUser
from ._guards import check
from ._http import request_auth

__all__ = [
    "AuthonomyAuthentication",
    "IsAuthonomyAuthenticated",
    "RequireGroups",
    "RequirePolicy",
    "RequireScopes",
]

_CHALLENGE = 'Bearer realm="authonomy"'


class AuthonomyAuthentication(BaseAuthentication):
    """The user ``AuthonomyMiddleware`` found (bearer token or session), or ``None``.

    A user known by the session cookie must pass Django's CSRF check on unsafe methods,
    as with the framework's ``SessionAuthentication``: the framework exempts its views
    from ``CsrfViewMiddleware`` and leaves the check to cookie-based authentication.
    """

    def authenticate(self, request: Request) -> tuple[AuthonomyUser, frozenset[str]] | None:
        """``(user, scopes)`` for a signed-in caller; ``None`` lets others try."""
        django_request = request._request
        user = request_auth(django_request).user
        if user is None:
            return None
        # Whatever the header, if the cookie signed the caller in (an empty
        # ``Authorization`` leaves it to the cookie), a forged cross-site POST could too.
        if by_session_cookie(django_request.META.get("HTTP_AUTHORIZATION")):
            _enforce_csrf(django_request)
        return user, user.scopes

    def authenticate_header(self, request: Request) -> str:
        """The challenge sent with 401, which also makes the framework answer 401, not 403."""
        return _CHALLENGE


def _enforce_csrf(request: HttpRequest) -> None:
    """Django's CSRF check for this request; the framework's 403 when it fails."""
    check = CsrfViewMiddleware(lambda _: HttpResponse())
    check.process_request(request)  # reads the CSRF cookie, as the middleware would
    refusal = check.process_view(request, lambda _: HttpResponse(), (), {})
    if refusal is not None:
        raise exceptions.PermissionDenied("CSRF check failed: send the CSRF token")


class _Unavailable(exceptions.APIException):
    status_code = 503
    default_code = "temporarily_unavailable"


class _Unchecked(exceptions.APIException):
    status_code = 500
    default_code = "internal_error"


#: The refusals that are the app's side failing, not the caller's; each class's code,
#: upper-cased, is the envelope's.
_SERVER_SIDE: dict[int, type[exceptions.APIException]] = {503: _Unavailable, 500: _Unchecked}


def _refusal(reply: web.Reply, signed_in: bool, denied_code: str) -> exceptions.APIException:
    """The core's refusal as the framework's exception, with the kit's envelope as body."""
    server_side = _SERVER_SIDE.get(reply.status)
    exc: exceptions.APIException
    if server_side is not None:  # 503: Authonomy out of reach; 500: a policy not to be had
        exc, code = server_side(), str(server_side.default_code).upper()
    elif not signed_in:
        exc, code = exceptions.NotAuthenticated(), "UNAUTHENTICATED"
    else:
        exc, code = exceptions.PermissionDenied(), denied_code
        # The framework sends this as WWW-Authenticate (RFC 6750's insufficient_scope).
        exc.auth_header = dict(reply.headers).get("www-authenticate")  # type: ignore[attr-defined]
    if reply.status == 503:
        exc.wait = int(dict(reply.headers).get("retry-after", "5"))  # type: ignore[attr-defined]
    if reply.content_type == "application/json":
        body = json.loads(reply.body)
    else:  # a browser's answer (login redirect, step-up, page): the framework answers JSON
        body = json.loads(web.error_envelope(code, str(exc.detail)))
    # Set after construction: the framework would turn ``False`` into the string "False".
    exc.detail = body
    return exc


class _Requirement(BasePermission):
    """A permission for one requirement, checked by the core like the view decorators."""

    requirement = Requirement.signed_in()
    #: The envelope code of a signed-in caller's refusal, when the answer is not JSON.
    denied_code = "POLICY_VIOLATED"

    def has_permission(self, request: Request, view: Any) -> bool:
        """``True``, or raises the refusal (401, 403 ``POLICY_VIOLATED``, 503)."""
        django_request = request._request
        reply = check(django_request, self.requirement)
        if reply is None:
            return True
        signed_in = request_auth(django_request).user is not None
        raise _refusal(reply, signed_in, self.denied_code)


class IsAuthonomyAuthenticated(_Requirement):
    """Only signed-in Authonomy users; others get 401 with ``WWW-Authenticate``."""


class _Configured(_Requirement):
    """A permission made with arguments, listed as an instance in ``permission_classes``.

    The framework instantiates each entry by calling it; calling the instance returns it.
    """

    def __init__(self, requirement: Requirement) -> None:
        self.requirement = requirement

    def __call__(self) -> _Configured:
        return self


class RequirePolicy(_Configured):
    """``permission_classes = [RequirePolicy("require-mfa")]``: users who meet the policy."""

    def __init__(self, name: str) -> None:
        super().__init__(Requirement.policy(name))


class RequireGroups(_Configured):
    """``permission_classes = [RequireGroups("admins")]``: users in one of the groups."""

    def __init__(self, *groups: str) -> None:
        super().__init__(Requirement.groups(*groups))


class RequireScopes(_Configured):
    """``permission_classes = [RequireScopes("reports:read")]``: callers whose access
    token grants every scope; others get 403 ``INSUFFICIENT_SCOPE``."""

    denied_code = "INSUFFICIENT_SCOPE"

    def __init__(self, *scopes: str) -> None:
        super().__init__(Requirement.scopes(*scopes))
