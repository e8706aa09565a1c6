"""A small FastAPI app that signs users in with Authonomy.

Pages: home, profile (groups), admin (behind the ``require-mfa`` policy, so Alice steps
up to MFA and Bob is refused), received webhooks, and a bearer-token JSON API at
``/api/me``. Every page is plain server-rendered HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from authonomy_integrations import AuthonomyConfig, AuthonomyUser
from authonomy_integrations.starlette import (
    AuthonomyMiddleware,
    current_user,
    login_required,
    require_policy,
    webhook_endpoint,
)
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

__all__ = ["create_app"]

#: The signed-in user, as a FastAPI dependency (302 to login or 401 otherwise).
CurrentUser = Annotated[AuthonomyUser, Depends(current_user)]


def create_app(config: AuthonomyConfig, *, clock: Callable[[], float] | None = None) -> FastAPI:
    """The example app for ``config``; ``clock`` is passed to the middleware (tests)."""
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
            link = f"{config.login_path}?next=/profile"
            return _page(config, user, "Welcome", f'<p><a href="{link}">Sign in</a></p>')
        return _page(config, user, "Welcome", f"<p>Hello, {_e(user.display_name)}.</p>")

    @app.get("/profile", response_class=HTMLResponse)
    @login_required
    async def profile(request: Request) -> str:
        user = request.user
        rows = [
            ("Email", user.email or ""),
            ("Customer", user.customer_id or ""),
            ("MFA", "yes" if user.mfa else "no"),
        ]
        body = "<dl>" + "".join(f"<dt>{k}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>"
        body += "<h2>Groups</h2>" + _list(sorted(user.groups))
        return _page(config, user, "Profile", body)

    @app.get("/admin", response_class=HTMLResponse)
    @require_policy("require-mfa")
    def admin(request: Request) -> str:
        body = "<p>Only users who signed in with MFA see this page.</p>"
        return _page(config, request.user, "Admin", body)

    @app.get("/webhooks", response_class=HTMLResponse)
    def webhooks(user: CurrentUser) -> str:
        items = [f"{event.type} ({event.id})" for event in reversed(events)]
        body = _list(items) if items else "<p>No webhook received yet.</p>"
        return _page(config, user, "Received webhooks", body)

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
    links = '<a href="/">Home</a> · <a href="/profile">Profile</a> · <a href="/admin">Admin</a>'
    links += ' · <a href="/webhooks">Webhooks</a>'
    if getattr(user, "is_authenticated", False):
        links += (
            f'<form method="post" action="{config.logout_path}" style="display:inline">'
            ' · <button type="submit">Sign out</button></form>'
        )
    return f"<nav>{links}</nav>"


_STYLE = (
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;"
    "padding:0 1rem;color:#1f2933}nav{padding-bottom:.6rem;border-bottom:1px solid #e4e7eb}"
    "nav a{margin-right:.4rem}nav form{display:inline}a{color:#2563eb}"
    "td,th{padding:.2rem .6rem;text-align:left}</style>"
)


def _page(config: AuthonomyConfig, user: object, title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} · FastAPI + Authonomy</title>{_STYLE}</head>"
        f"<body>{_nav(config, user)}"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    )
