"""The extension's routes: login, callback, logout, and the webhook view, in a blueprint."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from ..config import AuthonomyConfig
from ..core import web
from ..errors import (
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    InternalServerError,
    LoginError,
)
from ..webhooks import WebhookReceiver
from ._context import header_map, runtime, to_response, unavailable
from ._webhooks import make_webhook_view

__all__ = ["make_blueprint"]

logger = logging.getLogger("authonomy_integrations")


def make_blueprint(config: AuthonomyConfig, receiver: WebhookReceiver | None) -> Blueprint:
    """The ``authonomy`` blueprint with the routes at the paths ``config`` names."""
    blueprint = Blueprint("authonomy", __name__)
    blueprint.add_url_rule(config.login_path, "login", login, methods=["GET"])
    blueprint.add_url_rule(config.callback_path, "callback", callback, methods=["GET"])
    blueprint.add_url_rule(config.logout_path, "logout", logout, methods=["POST"])
    if receiver is not None:
        view = make_webhook_view(receiver)
        blueprint.add_url_rule(config.webhook_path, "webhook", view, methods=["POST"])
    return blueprint


def login() -> Response:
    """Start a login (``?next=``, ``?customer=``, ``?step_up=``) and go to Authonomy."""
    kit = runtime()
    config = kit.config
    login_cookie = web.login_cookie_name(config)
    try:
        start = kit.start_login(
            customer_id=kit.engine.resolve_customer(request.args.get("customer"), request),
            next_path=request.args.get("next"),
            login_cookie=request.cookies.get(login_cookie),
            step_up=request.args.get("step_up"),
        )
    except AuthonomyError as exc:
        return _login_trouble(exc)
    response = _redirect(start.redirect_url, 302)
    cookie = web.set_cookie(config, login_cookie, start.login_cookie, config.login_timeout)
    response.headers.add("Set-Cookie", cookie)
    return response


def callback() -> Response:
    """Finish a login: check the answer, start the session, go back to ``next``."""
    response = _finish_login()
    # The URL carries a one-time code: keep it out of Referer headers and caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _finish_login() -> Response:
    kit = runtime()
    config = kit.config
    session_cookie, login_cookie = web.session_cookie_name(config), web.login_cookie_name(config)
    try:
        done = kit.finish_login(
            request.args.to_dict(),
            login_cookie=request.cookies.get(login_cookie),
            old_session=request.cookies.get(session_cookie),
        )
    except AuthonomyError as exc:
        return _login_trouble(exc)
    response = _redirect(done.redirect_to, 302)
    for name, value, max_age in (
        (session_cookie, done.session_cookie, config.session_max_age),
        (login_cookie, done.login_cookie, config.login_timeout),
    ):
        response.headers.add("Set-Cookie", web.set_cookie(config, name, value, max_age))
    return response


def logout() -> Response:
    """End the session here and at Authonomy (POST from the app's own pages only)."""
    kit = runtime()
    config = kit.config
    if not web.logout_allowed(config, header_map()):
        body = web.error_envelope("FORBIDDEN", "Logout must be requested from this site")
        return to_response(web.Reply(403, body))
    name = web.session_cookie_name(config)
    kit.logout(request.cookies.get(name))
    response = _redirect(config.after_logout_path, 303)
    response.headers.add("Set-Cookie", web.clear_cookie(config, name))
    return response


def _redirect(location: str, status: int) -> Response:
    return Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


def _login_trouble(exc: AuthonomyError) -> Response:
    if isinstance(exc, AuthonomyUnavailableError | InternalServerError):
        return unavailable(exc)
    if isinstance(exc, LoginError):
        return to_response(web.login_failed(exc))
    if isinstance(exc, AuthonomyAPIError):
        # INVALID_CUSTOMER, IDP_NOT_CONFIGURED, ...: the user can act on the message.
        logger.warning("login refused by Authonomy: %s", exc)
        return to_response(web.login_failed(LoginError(exc.message, error=exc.code)))
    raise exc
