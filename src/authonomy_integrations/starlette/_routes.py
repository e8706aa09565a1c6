"""The routes the middleware serves itself: login, callback and logout.

Each handler turns the request into engine arguments and the engine's answer (or error)
into a response; the login logic lives in :mod:`authonomy_integrations.core.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from ..core import web
from ..core.engine import Engine
from ..core.login import LoginAttempts
from ..core.web import Reply
from ..errors import AuthonomyAPIError, LoginError
from ..runtime import AuthonomyAsync
from ._asgi import UNAVAILABLE, cookie_value, credential_headers, request_headers, response

__all__ = ["callback", "login", "logout"]


def _method_not_allowed(*allowed: str) -> Response:
    body = web.error_envelope("METHOD_NOT_ALLOWED", "Method not allowed")
    return response(Reply(405, body, headers=(("allow", ", ".join(allowed)),)))


def _redirect(location: str, status: int = 302, *extra: tuple[str, str]) -> Reply:
    headers = (("location", location), ("cache-control", "no-store"), *extra)
    return Reply(status, content_type="text/plain", headers=headers)


def _api_failure(exc: AuthonomyAPIError) -> Reply:
    # INVALID_CUSTOMER, IDP_NOT_CONFIGURED and the like: the user gets a page naming it.
    return web.login_failed(LoginError(exc.message, error=exc.code.lower()))


def _cookies(scope: Scope) -> bytes | None:
    return credential_headers(scope["headers"])[1]


async def login(runtime: AuthonomyAsync, scope: Scope, receive: Receive) -> Response:
    """``GET login_path?next=&customer=&step_up=``: start a login at Authonomy."""
    # Not HEAD either: each start is a call to Authonomy and a new login attempt.
    if scope["method"] != "GET":
        return _method_not_allowed("GET")
    config = runtime.config
    request = Request(scope, receive)
    query = request.query_params
    pending = cookie_value(_cookies(scope), web.login_cookie_name(config))
    try:
        customer = runtime.engine.resolve_customer(query.get("customer"), request)
        start = await runtime.start_login(
            customer_id=customer,
            next_path=query.get("next"),
            login_cookie=pending,
            step_up=query.get("step_up") or None,
        )
    except LoginError as exc:
        return response(web.login_failed(exc))
    except UNAVAILABLE as exc:
        return response(web.unavailable(exc, scope["method"], request.headers))
    except AuthonomyAPIError as exc:
        return response(_api_failure(exc))
    login_cookie = web.set_cookie(
        config, web.login_cookie_name(config), start.login_cookie, config.login_timeout
    )
    return response(_redirect(start.redirect_url), login_cookie)


async def callback(runtime: AuthonomyAsync, scope: Scope, receive: Receive) -> Response:
    """``GET callback_path?code=&state=&iss=``: finish the login and start the session."""
    # Not HEAD either: a link checker's HEAD would spend the single-use code.
    if scope["method"] != "GET":
        return _method_not_allowed("GET")
    config = runtime.config
    params = dict(Request(scope, receive).query_params)
    cookies = _cookies(scope)
    pending = cookie_value(cookies, web.login_cookie_name(config))
    try:
        done = await runtime.finish_login(
            params,
            login_cookie=pending,
            old_session=cookie_value(cookies, web.session_cookie_name(config)),
        )
    except UNAVAILABLE as exc:
        return response(web.unavailable(exc, scope["method"], request_headers(scope)))
    except (LoginError, AuthonomyAPIError) as exc:
        reply = web.login_failed(exc) if isinstance(exc, LoginError) else _api_failure(exc)
        spent = _spent_attempts(runtime.engine, params, pending)
        return response(reply, *_login_cookie(runtime, spent))
    session = web.set_cookie(
        config, web.session_cookie_name(config), done.session_cookie, config.session_max_age
    )
    # The callback URL carries the code: keep it out of Referer headers and caches.
    reply = _redirect(done.redirect_to, 302, ("referrer-policy", "no-referrer"))
    return response(reply, session, *_login_cookie(runtime, done.login_cookie))


def _login_cookie(runtime: AuthonomyAsync, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    config = runtime.config
    return (web.set_cookie(config, web.login_cookie_name(config), value, config.login_timeout),)


def _spent_attempts(engine: Engine, params: Mapping[str, str], cookie: str | None) -> str | None:
    """The login cookie without the attempt a failed callback used up.

    ``check_callback`` spends the attempt whatever happens next; writing that back
    means the same callback URL cannot be tried again in this browser.
    """
    box = engine.login_box
    if box is None or not cookie:
        return None
    now = engine.clock()
    pending = LoginAttempts.decode(cookie, box, now, engine.config.login_timeout)
    _, remaining = LoginAttempts.take(pending, params.get("state"))
    return LoginAttempts.encode(remaining, box)


async def logout(runtime: AuthonomyAsync, scope: Scope, receive: Receive) -> Response:
    """``POST logout_path`` from the app's own pages: end the session, clear the cookie."""
    del receive  # the form body carries nothing the logout needs
    if scope["method"] != "POST":
        return _method_not_allowed("POST")
    config = runtime.config
    if not web.logout_allowed(config, request_headers(scope)):
        body = web.error_envelope("FORBIDDEN", "Logout must come from this site's own pages")
        return response(Reply(403, body))
    name = web.session_cookie_name(config)
    await runtime.logout(cookie_value(_cookies(scope), name))
    reply = _redirect(config.after_logout_path, 303)
    return response(reply, web.clear_cookie(config, name))
