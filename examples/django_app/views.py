"""The example's pages: the same as the FastAPI and Flask examples.

``/`` (who is signed in), ``/profile`` (signed-in users: profile and groups), ``/admin``
(behind the ``require-mfa`` policy: Alice, who signs in with MFA, sees it at once; Bob,
who signs in without, is sent to sign in again with the one-time code), ``/webhooks``
(events Authonomy sent us), ``/api/me`` (JSON for a bearer token or the session),
``/signed-out`` (the confirmation after "Sign out"). Same words and layout as the
FastAPI and Flask examples.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Engine

from authonomy_integrations.django import login_required, require_policy
from authonomy_integrations.webhooks import WebhookEvent

from ..shared import SIGN_IN, SIGN_OUT, SIGNED_OUT_MESSAGE, page_layout

__all__ = ["admin", "favicon", "home", "me", "profile", "remember", "signed_out", "webhooks"]

_ENGINE = Engine(autoescape=True)

_LAYOUT = page_layout("Django", "{% block body %}{% endblock %}")

_HOME = """{% if user.is_authenticated %}<p>Signed in as <b>{{ user.display_name }}</b>
({{ user.email }}) through <b>{{ user.customer_id }}</b>.</p>
{% else %}<p>Nobody is signed in. <a href="{{ login_path }}?next=/profile">{{ sign_in }}</a>
(sandbox users: alice, bob).</p>{% endif %}"""

_PROFILE = """<table>
<tr><th>Id</th><td>{{ user.id }}</td></tr><tr><th>Name</th><td>{{ user.name }}</td></tr>
<tr><th>Email</th><td>{{ user.email }}</td></tr>
<tr><th>Customer</th><td>{{ user.customer_id }}</td></tr>
<tr><th>Groups</th><td>{{ groups|join:", " }}</td></tr>
<tr><th>MFA</th><td>{{ user.mfa|yesno:"yes,no" }}</td></tr></table>"""

_ADMIN = """<p>Welcome, {{ user.display_name }}: you signed in with MFA.</p>
<p>Your groups: {{ groups|join:", " }}</p>"""

_WEBHOOKS = """{% if events %}<table><tr><th>Id</th><th>Type</th><th>Time</th></tr>
{% for event in events %}<tr><td>{{ event.id }}</td><td>{{ event.type }}</td>
<td>{{ event.timestamp }}</td></tr>{% endfor %}</table>
{% else %}<p>No webhook received yet.</p>{% endif %}"""

#: Read once, when Django loads the URLs, as the middleware reads it once at start-up.
_CONFIG = settings.AUTHONOMY_CONFIG

#: The latest deliveries, newest first.
received: deque[dict[str, Any]] = deque(maxlen=50)


def remember(event: WebhookEvent) -> None:
    """Webhook handler: keep the delivery for the ``/webhooks`` page."""
    received.appendleft(
        {"id": event.id, "type": event.type, "timestamp": event.timestamp.isoformat()}
    )


def _page(request: HttpRequest, title: str, body: str, **values: Any) -> HttpResponse:
    user = request.user
    template = _ENGINE.from_string(_LAYOUT.replace("{% block body %}{% endblock %}", body))
    context = {
        "title": title,
        "user": user,
        "groups": sorted(getattr(user, "groups", ())),
        "login_path": _CONFIG.login_path,
        "logout_path": _CONFIG.logout_path,
        "sign_in": SIGN_IN,
        "sign_out": SIGN_OUT,
        **values,
    }
    return HttpResponse(template.render(Context(context)))


def home(request: HttpRequest) -> HttpResponse:
    """Who is signed in."""
    return _page(request, "Home", _HOME)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's profile and groups."""
    return _page(request, "Profile", _PROFILE)


@require_policy("require-mfa")
async def admin(request: HttpRequest) -> HttpResponse:
    """Only with MFA and a recent sign-in (an async view: both kinds are guarded)."""
    return _page(request, "Admin", _ADMIN)


@login_required
def me(request: HttpRequest) -> JsonResponse:
    """The caller as JSON (bearer token or session)."""
    user: Any = request.user
    return JsonResponse(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "customer_id": user.customer_id,
            "groups": sorted(user.groups),
            "mfa": user.mfa,
        }
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    """The webhooks Authonomy sent us."""
    return _page(request, "Webhooks received", _WEBHOOKS, events=list(received))


def signed_out(request: HttpRequest) -> HttpResponse:
    """The confirmation the logout route sends the browser to."""
    return _page(request, "Signed out", "<p>{{ message }}</p>", message=SIGNED_OUT_MESSAGE)


def favicon(request: HttpRequest) -> HttpResponse:
    """No icon, and no 404 in the log."""
    return HttpResponse(status=204)
