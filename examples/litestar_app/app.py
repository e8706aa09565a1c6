"""A small Litestar app that signs users in with Authonomy.

Pages: ``/`` (who is signed in), ``/profile`` (signed-in users: profile and groups),
``/admin`` (behind the ``require-mfa`` policy: Alice, who signs in with MFA, sees it at
once; Bob, who signs in without, is sent to sign in again with the one-time code),
``/webhooks`` (events Authonomy sent us), ``/api/me`` (JSON for a bearer token or the
session), ``/signed-out`` (the confirmation after "Sign out"). Every page is plain
server-rendered HTML, with the same words and layout as the other examples.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations.litestar import (
    AuthonomyPlugin,
    login_required,
    require_policy,
    webhook_route,
)
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from ..shared import (
    FAVICON_LINK,
    SIGN_IN,
    SIGN_OUT,
    SIGNED_OUT_MESSAGE,
    SIGNED_OUT_PATH,
    with_signed_out_page,
)

__all__ = ["create_app"]

AnyRequest = Request[Any, Any, Any]
#: The signed-in user, as the plugin's ``current_user`` dependency (302 to login or 401
#: otherwise).
CurrentUser = NamedDependency[AuthonomyUser]
HTML = "text/html"


def create_app(config: AuthonomyConfig, *, clock: Callable[[], float] | None = None) -> Litestar:
    """The example app for ``config``; ``clock`` is passed to the plugin (tests)."""
    config = with_signed_out_page(config)
    events: list[WebhookEvent] = []
    handlers = _pages(config, events)
    if config.webhook_secrets:
        handlers.append(_webhooks(config, events))
    plugin = AuthonomyPlugin(config=config, clock=clock)
    # Logging is the server's to set up (the demo's ``log_config``): Litestar's own
    # configuration would replace the root logger's handlers.
    app = Litestar(handlers, plugins=[plugin], logging_config=None)
    app.state.webhook_events = events
    return app


def _webhooks(config: AuthonomyConfig, events: list[WebhookEvent]) -> HTTPRouteHandler:
    receiver = WebhookReceiver(config)

    @receiver.on_any
    def remember(event: WebhookEvent) -> None:
        events.append(event)

    return webhook_route(receiver, path=config.webhook_path)


def _pages(config: AuthonomyConfig, events: list[WebhookEvent]) -> list[HTTPRouteHandler]:
    @get("/", media_type=HTML)
    async def home(request: AnyRequest) -> str:
        user = request.user
        if not user.is_authenticated:
            link = f'<a href="{config.login_path}?next=/profile">{SIGN_IN}</a>'
            body = f"<p>Nobody is signed in. {link} (sandbox users: alice, bob).</p>"
            return _page(config, user, "Home", body)
        body = (
            f"<p>Signed in as <b>{_e(user.display_name)}</b> ({_e(user.email or '')})"
            f" through <b>{_e(user.customer_id or '')}</b>.</p>"
        )
        return _page(config, user, "Home", body)

    @get(SIGNED_OUT_PATH, media_type=HTML)
    async def signed_out(request: AnyRequest) -> str:
        return _page(config, request.user, "Signed out", f"<p>{SIGNED_OUT_MESSAGE}</p>")

    @get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response[None]:
        return Response(None, status_code=204)  # no icon, and no 404 in the log

    @get("/profile", media_type=HTML, guards=[login_required])
    async def profile(request: AnyRequest) -> str:
        user = request.user
        rows = [
            ("Id", user.id),
            ("Name", user.name or ""),
            ("Email", user.email or ""),
            ("Customer", user.customer_id or ""),
            ("Groups", ", ".join(sorted(user.groups))),
            ("MFA", "yes" if user.mfa else "no"),
        ]
        body = "<table>" + "".join(f"<tr><th>{k}</th><td>{_e(v)}</td></tr>" for k, v in rows)
        body += "</table>"
        return _page(config, user, "Profile", body)

    @get("/admin", media_type=HTML, guards=[require_policy("require-mfa")], sync_to_thread=True)
    def admin(request: AnyRequest) -> str:
        user = request.user
        body = (
            f"<p>Welcome, {_e(user.display_name)}: you signed in with MFA.</p>"
            f"<p>Your groups: {_e(', '.join(sorted(user.groups)))}</p>"
        )
        return _page(config, user, "Admin", body)

    @get("/webhooks", media_type=HTML, sync_to_thread=False)
    def webhooks(current_user: CurrentUser) -> str:
        items = [f"{event.type} ({event.id})" for event in reversed(events)]
        body = _list(items) if items else "<p>No webhook received yet.</p>"
        return _page(config, current_user, "Webhooks received", body)

    @get("/api/me")
    async def me(current_user: CurrentUser) -> dict[str, object]:
        return {
            "id": current_user.id,
            "email": current_user.email,
            "customer_id": current_user.customer_id,
            "groups": sorted(current_user.groups),
            "mfa": current_user.mfa,
        }

    return [home, signed_out, favicon, profile, admin, webhooks, me]


def _e(text: str) -> str:
    return html.escape(text)


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def _nav(config: AuthonomyConfig, user: object) -> str:
    links = '<a href="/">Home</a><a href="/profile">Profile</a><a href="/admin">Admin</a>'
    links += '<a href="/api/me">/api/me</a><a href="/webhooks">Webhooks</a>'
    if getattr(user, "is_authenticated", False):
        links += (
            f'<form method="post" action="{config.logout_path}">'
            f'<button type="submit">{SIGN_OUT}</button></form>'
        )
    else:
        links += f'<a href="{config.login_path}?next=/profile">{SIGN_IN}</a>'
    return f"<nav>{links}</nav>"


_STYLE = (
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;"
    "padding:0 1rem}nav a{margin-right:1rem}nav form{display:inline}"
    "td,th{padding:.2rem .6rem;text-align:left}</style>"
)


def _page(config: AuthonomyConfig, user: object, title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} · Litestar + Authonomy</title>{FAVICON_LINK}{_STYLE}</head>"
        f"<body>{_nav(config, user)}"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    )
