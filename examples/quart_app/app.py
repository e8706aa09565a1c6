"""A small Quart app signed in through Authonomy, asyncio throughout.

Pages: ``/`` (who is signed in), ``/profile`` (signed-in users: profile and groups),
``/admin`` (behind the ``require-mfa`` policy: Alice, who signs in with MFA, sees it at
once; Bob, who signs in without, is sent to sign in again with the one-time code),
``/webhooks`` (events Authonomy sent us), ``/api/me`` (JSON for a bearer token or the
session), ``/signed-out`` (the confirmation after "Sign out"). Same words and layout as
the FastAPI and Flask examples.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from markupsafe import Markup
from quart import Quart, Response, render_template_string

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.quart import Authonomy, current_user, login_required, require_policy
from authonomy_integrations.webhooks import WebhookEvent

from ..shared import (
    SIGN_IN,
    SIGN_OUT,
    SIGNED_OUT_MESSAGE,
    SIGNED_OUT_PATH,
    page_layout,
    with_signed_out_page,
)

__all__ = ["create_app"]

_LAYOUT = page_layout("Quart", "{{ body }}")

_HOME = """{% if user.is_authenticated %}<p>Signed in as <b>{{ user.display_name }}</b>
({{ user.email }}) through <b>{{ user.customer_id }}</b>.</p>
{% else %}<p>Nobody is signed in. <a href="{{ login_path }}?next=/profile">{{ sign_in }}</a>
(sandbox users: alice, bob).</p>{% endif %}"""

_PROFILE = """<table>
<tr><th>Id</th><td>{{ user.id }}</td></tr><tr><th>Name</th><td>{{ user.name }}</td></tr>
<tr><th>Email</th><td>{{ user.email }}</td></tr>
<tr><th>Customer</th><td>{{ user.customer_id }}</td></tr>
<tr><th>Groups</th><td>{{ user.groups | sort | join(", ") }}</td></tr>
<tr><th>MFA</th><td>{{ "yes" if user.mfa else "no" }}</td></tr></table>"""

_ADMIN = """<p>Welcome, {{ user.display_name }}: you signed in with MFA.</p>
<p>Your groups: {{ user.groups | sort | join(", ") }}</p>"""

_WEBHOOKS = """{% if events %}<table><tr><th>Id</th><th>Type</th><th>Time</th></tr>
{% for event in events %}<tr><td>{{ event.id }}</td><td>{{ event.type }}</td>
<td>{{ event.timestamp }}</td></tr>{% endfor %}</table>
{% else %}<p>No webhook received yet.</p>{% endif %}"""


def create_app(config: AuthonomyConfig, *, clock: Callable[[], float] | None = None) -> Quart:
    """The example app for ``config``; ``clock`` replaces ``time.time`` (tests)."""
    config = with_signed_out_page(config)
    app = Quart(__name__)
    authonomy = Authonomy(app, config=config, clock=clock)
    received: deque[dict[str, Any]] = deque(maxlen=50)
    if config.webhook_secrets:

        @authonomy.webhooks.on_any
        async def remember(event: WebhookEvent) -> None:
            received.appendleft(
                {"id": event.id, "type": event.type, "timestamp": event.timestamp.isoformat()}
            )

    async def page(title: str, body: str, **values: Any) -> str:
        context = {
            "user": current_user,
            "login_path": config.login_path,
            "logout_path": config.logout_path,
            "sign_in": SIGN_IN,
            "sign_out": SIGN_OUT,
            **values,
        }
        inner = Markup(await render_template_string(body, **context))  # already escaped
        return await render_template_string(_LAYOUT, title=title, body=inner, **context)

    @app.get("/")
    async def home() -> str:
        return await page("Home", _HOME)

    @app.get("/profile")
    @login_required
    async def profile() -> str:
        return await page("Profile", _PROFILE)

    @app.get("/admin")
    @require_policy("require-mfa")
    async def admin() -> str:
        return await page("Admin", _ADMIN)

    @app.get("/api/me")
    @login_required
    async def me() -> dict[str, Any]:
        return {
            "id": current_user.id,
            "email": current_user.email,
            "name": current_user.name,
            "customer_id": current_user.customer_id,
            "groups": sorted(current_user.groups),
            "mfa": current_user.mfa,
        }

    @app.get("/webhooks")
    @login_required
    async def webhooks() -> str:
        return await page("Webhooks received", _WEBHOOKS, events=list(received))

    @app.get(SIGNED_OUT_PATH)
    async def signed_out() -> str:
        return await page("Signed out", f"<p>{SIGNED_OUT_MESSAGE}</p>")

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status=204)  # no icon, and no 404 in the log

    return app
