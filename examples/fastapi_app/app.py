"""A small FastAPI app that signs users in with Authonomy.

Pages: ``/`` (who is signed in), ``/profile`` (signed-in users: profile and groups),
``/admin`` (behind the ``require-mfa`` policy: Alice, who signs in with MFA, sees it at
once; Bob, who signs in without, is sent to sign in again with the one-time code),
``/webhooks`` (events Authonomy sent us), ``/api/me`` (JSON for a bearer token or the
session), ``/signed-out`` (the confirmation after "Sign out"). Every page is plain
server-rendered HTML, with the same words and layout as the Flask example.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    current_user,
    login_required,
    require_policy,
    webhook_endpoint,
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

#: The signed-in user, as a FastAPI dependency (302 to login or 401 otherwise).
CurrentUser = Annotated[AuthonomyUser, Depends(current_user)]


def create_app(config: AuthonomyConfig, *, clock: Callable[[], float] | None = None) -> FastAPI:
    """The example app for ``config``; ``clock`` is passed to the middleware (tests)."""
    config = with_signed_out_page(config)
    app = FastAPI(title="Authonomy FastAPI example", docs_url=None, redoc_url=None)
    app.add_middleware(AuthonomyMiddleware, config=config, clock=clock)
    events: list[WebhookEvent] = []
    app.state.webhook_events = events
    if config.webhook_secrets:
        _mount_webhooks(app, config, events)
    _add_pages(app, config, events)
    return app


def _mount_webhooks(app: FastAPI, config: AuthonomyConfig, events: list[WebhookEvent]) -> None:
    receiver = WebhookReceiver(config)
    app.state.webhook_receiver = receiver

    @receiver.on_any
    def remember(event: WebhookEvent) -> None:
        events.append(event)

    app.add_route(config.webhook_path, webhook_endpoint(receiver), methods=["POST"])


def _add_pages(app: FastAPI, config: AuthonomyConfig, events: list[WebhookEvent]) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> str:
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

    @app.get(SIGNED_OUT_PATH, response_class=HTMLResponse)
    async def signed_out(request: Request) -> str:
        return _page(config, request.user, "Signed out", f"<p>{SIGNED_OUT_MESSAGE}</p>")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon, and no 404 in the log

    @app.get("/profile", response_class=HTMLResponse)
    @login_required
    async def profile(request: Request) -> str:
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

    @app.get("/admin", response_class=HTMLResponse)
    @require_policy("require-mfa")
    def admin(request: Request) -> str:
        user = request.user
        body = (
            f"<p>Welcome, {_e(user.display_name)}: you signed in with MFA.</p>"
            f"<p>Your groups: {_e(', '.join(sorted(user.groups)))}</p>"
        )
        return _page(config, user, "Admin", body)

    @app.get("/webhooks", response_class=HTMLResponse)
    def webhooks(user: CurrentUser) -> str:
        items = [f"{event.type} ({event.id})" for event in reversed(events)]
        body = _list(items) if items else "<p>No webhook received yet.</p>"
        return _page(config, user, "Webhooks received", body)

    @app.get("/api/me")
    async def me(user: CurrentUser) -> dict[str, object]:
        return {
            "id": user.id,
            "email": user.email,
            "customer_id": user.customer_id,
            "groups": sorted(user.groups),
            "mfa": user.mfa,
        }


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
        f"<title>{_e(title)} · FastAPI + Authonomy</title>{FAVICON_LINK}{_STYLE}</head>"
        f"<body>{_nav(config, user)}"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    )
