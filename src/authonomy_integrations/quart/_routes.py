"""The extension's routes: login, callback, logout, sessions, and the webhook view, in a
blueprint.

What they answer is decided in :mod:`authonomy_integrations._core.routes`; here Quart's
request becomes a :class:`~authonomy_integrations._core.routes.RequestInfo` and the answer
a Quart response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Blueprint, Response

from .._config import AuthonomyConfig
from .._core.routes import Answer
from .._core.web import Reply, error_envelope
from ..webhooks import WebhookReceiver
from ._context import request_info, runtime, to_response
from ._webhooks import make_webhook_view

__all__ = ["make_blueprint"]

#: Every method reaches the core, which answers the wrong ones with its own 405.
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def make_blueprint(config: AuthonomyConfig, receiver: WebhookReceiver | None) -> Blueprint:
    """The ``authonomy`` blueprint with the routes at the paths ``config`` names."""
    blueprint = Blueprint("authonomy", __name__)
    if config.login_path is not None:  # else an API-only app: no login routes
        for path, name in (
            (config.login_path, "login"),
            (config.callback_path, "callback"),
            (config.logout_path, "logout"),
            (config.sessions_path, "sessions"),
        ):
            blueprint.add_url_rule(path, name, _view(name), methods=_METHODS)
        end = f"{config.sessions_path.rstrip('/')}/<handle>/end"
        blueprint.add_url_rule(end, "end_session", _end_session, methods=_METHODS)
    if receiver is not None:
        view = make_webhook_view(receiver)
        blueprint.add_url_rule(config.webhook_path, "webhook", view, methods=["POST"])
    return blueprint


async def _end_session(handle: str) -> Response:
    """The kit's route that ends one of the user's sessions (``Routes.end_session``)."""
    kit = runtime()
    route = kit.routes.route(f"{kit.config.sessions_path.rstrip('/')}/{handle}/end")
    if route is None:  # not a handle's shape: the core's lookup says so, as elsewhere
        return to_response(Reply(404, error_envelope("NOT_FOUND", "No such session")))
    answer: Answer = await kit.run(route(request_info(route=True)))
    return to_response(answer.reply, *answer.cookies)


def _view(name: str) -> Callable[[], Awaitable[Response]]:
    async def view() -> Response:
        kit = runtime()
        answer: Answer = await kit.run(getattr(kit.routes, name)(request_info(route=True)))
        return to_response(answer.reply, *answer.cookies)

    view.__name__ = name
    view.__doc__ = f"The kit's {name} route (see ``_core.routes.Routes.{name}``)."
    return view
