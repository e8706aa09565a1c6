"""Django requests as the core's :class:`RequestInfo`, and core replies as Django responses.

Per request the middleware leaves a :class:`RequestAuth` on the request (the runtime and
the caller); the guards and the REST framework classes read it there, never from
``request.user``, which other middleware may replace.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from http.cookies import Morsel

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix

from .._core import web
from .._core.routes import Answer, RequestInfo, Routes
from .._core.serving import route_info
from .._core.user import AuthonomyUser, UnauthenticatedUser
from .._runtime import AuthonomyAsync, AuthonomySync

__all__ = [
    "ANONYMOUS",
    "REQUEST_KEY",
    "RequestAuth",
    "answer_response",
    "credentials",
    "raw_target",
    "request_auth",
    "request_info",
    "to_response",
    "with_cookie",
]

#: The request attribute holding the middleware's :class:`RequestAuth`.
REQUEST_KEY = "_authonomy"
#: ``request.user`` for nobody.
ANONYMOUS = UnauthenticatedUser()


# Not frozen: one is made per request, and a frozen class's ``__init__`` sets each field
# through ``object.__setattr__``, several times slower. Nothing changes one once made.
@dataclass(slots=True)
class RequestAuth:
    """What the middleware settled about one request."""

    runtime: AuthonomySync | AuthonomyAsync
    user: AuthonomyUser | None

    async def auser(self) -> AuthonomyUser | UnauthenticatedUser:
        """``request.user``, awaited: what django.contrib.auth offers async code."""
        return self.user if self.user is not None else ANONYMOUS


def request_auth(request: HttpRequest) -> RequestAuth:
    """The middleware's findings; a clear error when the middleware is not installed."""
    found = getattr(request, REQUEST_KEY, None)
    if not isinstance(found, RequestAuth):
        raise RuntimeError(
            "AuthonomyMiddleware is not installed: add "
            '"authonomy_integrations.django.AuthonomyMiddleware" to settings.MIDDLEWARE'
        )
    return found


def raw_target(request: HttpRequest) -> str:
    """The path and query as the client sent them (percent-encoded, ASCII).

    Django's ``get_full_path()`` re-encodes the decoded path, which turns
    ``/files/a%2Fb`` into ``/files/a/b``; the server's raw target keeps it.
    """
    scope = getattr(request, "scope", None)  # an ASGI request
    return web.asgi_target(scope) if isinstance(scope, dict) else web.wsgi_target(request.META)


def credentials(request: HttpRequest) -> tuple[str | None, str | None]:
    """The ``Authorization`` and ``Cookie`` headers (see ``web.asgi_cookie_header``)."""
    meta = request.META
    return meta.get("HTTP_AUTHORIZATION"), web.asgi_cookie_header(request, meta.get("HTTP_COOKIE"))


def request_info(request: HttpRequest, routes: Routes | None = None) -> RequestInfo:
    """What the core needs to know about ``request``.

    With ``routes`` (the runtime's :class:`~authonomy_integrations._core.routes.Routes`),
    the query and the kit's cookies are read too, as the login routes need them.
    """
    info = RequestInfo(
        method=request.method or "GET",
        # Django's request.headers looks names up case-insensitively, as the core expects.
        headers=request.headers,
        target=raw_target(request),
        query={},
        client_ip=request.META.get("REMOTE_ADDR"),
        request=request,
        # Django's own, as ``reverse()`` reads it: ``SCRIPT_NAME``, ``root_path`` or
        # ``FORCE_SCRIPT_NAME`` (which ASGI's ``request.path`` may lack).
        prefix=web.url_prefix(get_script_prefix()),
    )
    if routes is None:
        return info
    return route_info(routes, info, request.GET, credentials(request)[1])


class _CoreCookie(Morsel[str]):
    """A ``Set-Cookie`` value written by the core, sent exactly as written.

    Django sends ``response.cookies``, and its test clients keep them; a morsel that
    renders the core's header keeps the attributes the core chose (``__Host-``,
    ``SameSite``, ``Max-Age``) without re-deriving them here.
    """

    def __init__(self, header: str) -> None:
        super().__init__()
        name, _, value = header.partition(";")[0].partition("=")
        self.set(name, value, value)
        self._header = header

    def OutputString(self, attrs: Container[str] | None = None) -> str:
        """The header value as the core wrote it."""
        return self._header


def with_cookie(response: HttpResponse, header: str) -> HttpResponse:
    """``response`` with one more ``Set-Cookie`` value from the core."""
    cookie = _CoreCookie(header)
    response.cookies[cookie.key] = cookie
    return response


def to_response(reply: web.Reply) -> HttpResponse:
    """A framework-free reply as a Django response."""
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers:
        response.headers[name] = value
    return response


def answer_response(answer: Answer) -> HttpResponse:
    """A route's answer (reply and cookies) as a Django response."""
    response = to_response(answer.reply)
    for cookie in answer.cookies:
        with_cookie(response, cookie)
    return response
