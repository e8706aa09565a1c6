"""The ASGI layer the extension puts around ``app.asgi_app``: who is calling.

It runs before Quart builds its request or WebSocket context, as Quart's documentation
says ASGI middleware should (``app.asgi_app = middleware(app.asgi_app)``). The user rides
in the ASGI scope (``scope["authonomy.user"]``), where ``current_user`` and the guards
read it; a refreshed or ended session's cookie is added to the response on its way out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from .._core import web
from .._core.caller import Pending
from .._core.routes import Answer, RequestInfo
from .._core.serving import CallApp, Serving
from .._runtime import AuthonomyAsync

__all__ = ["USER_KEY", "AuthonomyASGI", "client_ip", "close_code", "route_path"]

#: Where the request's ``AuthonomyUser`` (or ``None``) is kept in the ASGI scope.
USER_KEY = "authonomy.user"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]


class AuthonomyASGI:
    """Authenticates the bearer token or session cookie of each HTTP request and
    WebSocket handshake for ``app``.

    The request runs the core's pipeline (:class:`~.._core.serving.Serving`); the kit's
    routes are the blueprint's views, so here their paths reach the app for nobody.
    """

    def __init__(self, app: ASGIApp, runtime: AuthonomyAsync) -> None:
        self.app = app
        serving = Serving(runtime.routes, runtime.callers, answers_routes=False)
        self._known = serving.known_in
        self._serve = serving.serve
        self._runner = runtime.runner.with_handlers({CallApp: _call_app})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Put the caller in the scope and run the app, or answer 401 / 503 at once."""
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        user = self._known(route_path(scope), scope["headers"], websocket=kind == "websocket")
        if isinstance(user, Pending):
            await self._settle(scope, receive, send, user)
            return
        scope[USER_KEY] = user
        await self.app(scope, receive, send)

    async def _settle(self, scope: Scope, receive: Receive, send: Send, pending: Pending) -> None:
        """The core's serving flow: a refusal, or the app with its caller settled."""
        credentials = (pending.authorization, pending.cookies)
        request = (self.app, scope, receive, send)
        flow = self._serve(request, route_path(scope), credentials, lambda _: _info(scope))
        outcome = await self._runner.run(flow)
        if isinstance(outcome, Answer):
            await _answer(outcome, scope, send)


async def _call_app(effect: CallApp) -> None:
    """Tell the app who is calling and call it (a refreshed session's cookie added on
    the way out; a WebSocket gets the user but no cookie)."""
    app, scope, receive, send = effect.request
    scope[USER_KEY] = effect.user
    if effect.set_cookie is not None and scope["type"] == "http":
        send = _with_cookie(send, effect.set_cookie)
    await app(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The path Quart routes by: ASGI servers give the full path, and Quart drops the
    app's ``root_path`` from its front, and the scheme and host of a target sent in
    absolute form (Hypercorn passes ``http://host/path`` on as the path). The kit's paths
    (the webhook's, the sign-in routes) are known by that path, so an app served under a
    prefix keeps them."""
    path: str = scope["path"]
    if not path.startswith("/"):  # an absolute-form target (``GET http://host/path``)
        path = urlsplit(path).path
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) and path != root else path


def _info(scope: Scope) -> RequestInfo:
    """The request read for the core; only its refusals need it (the routes are views)."""
    method: str = scope.get("method", "GET")  # a WebSocket handshake has none
    target, prefix = web.asgi_target(scope), web.url_prefix(scope.get("root_path"))
    return RequestInfo(method, _headers(scope), target, {}, client_ip(scope), prefix=prefix)


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers with lower-case names, repeated ones joined (RFC 9110)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        joint = "; " if name == "cookie" else ", "
        headers[name] = f"{headers[name]}{joint}{value}" if name in headers else value
    return headers


def client_ip(scope: Scope) -> str | None:
    """The client's address as the server saw it (policies' ``ip_allowlist``)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def close_code(reply: web.Reply) -> int:
    """The WebSocket close code that stands for ``reply`` (RFC 6455): 1013 ("try again
    later") for a 503, else 1008 (policy violation)."""
    return 1013 if reply.status == 503 else 1008


async def _answer(answer: Answer, scope: Scope, send: Send) -> None:
    """The kit's answer; a WebSocket handshake is refused with a close code instead."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": close_code(answer.reply), "reason": ""})
        return
    reply = answer.reply
    headers = [("content-type", reply.content_type), *reply.headers]
    headers += [("content-length", str(len(reply.body)))]
    headers += [("set-cookie", cookie) for cookie in answer.cookies]
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": raw})
    await send({"type": "http.response.body", "body": reply.body})


def _with_cookie(send: Send, cookie: str) -> Send:
    """``send`` that appends a ``Set-Cookie`` header to the response start message."""
    extra = (b"set-cookie", cookie.encode("latin-1"))

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), extra]}
        await send(message)

    return send_with_cookie
