"""``/console``: the sandbox's recent activity as a page, and resending a webhook delivery.

The console has no login (the sandbox is a local tool), so its one write, resend, is
guarded against other sites: a browser's POST must come from the console's own origin and
carry the form token printed in the console page, which another site cannot read.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ._console_page import ConsoleView, console_page, message_page
from ._own_host import own_origins
from ._state import SandboxState

__all__ = ["console_routes"]

_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    # Not no-referrer: under that policy a browser sends "Origin: null" with the form's
    # POST, and the same-origin check below could not tell the console from elsewhere.
    "Referrer-Policy": "same-origin",
}
_WAIT_SLACK = 1.0


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _notice(state: SandboxState, request: Request) -> str | None:
    event_id = request.query_params.get("resent")
    webhook_id = request.query_params.get("webhook")
    for record in state.dispatcher.records:
        if record.event_id == event_id and record.webhook.id == webhook_id:
            status = f"HTTP {record.last_status}" if record.last_status else "no answer yet"
            return f"Sent {event_id} again to {record.webhook.url}: {status}."
    return None


async def _console(request: Request) -> Response:
    state = _state(request)
    view = ConsoleView(
        issuer=state.issuer,
        form_token=state.console_token,
        logins=state.activity.logins,
        tokens=state.activity.tokens,
        revoked=state.activity.revoked_sessions,
        deliveries=state.dispatcher.records,
    )
    return _html(console_page(view, _notice(state, request)))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _cross_site(request: Request) -> bool:
    """Whether a browser says this POST comes from a page outside the console's origin.

    Browsers send ``Origin`` with every form POST; an absent one (a script such as curl)
    falls back to ``Referer``, and the form token still has to match.
    """
    # The sandbox's own origins, never one made from the request's ``Host``, which a
    # rebinding page chooses (``OwnHostOnly`` refuses those too).
    own = own_origins(_state(request).issuer)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() not in own
    referer = request.headers.get("referer")
    return referer is not None and _origin_of(referer) not in own


def _refused(title: str, message: str, status: int) -> HTMLResponse:
    return _html(message_page(title, message), status)


async def _resend(request: Request) -> Response:
    state = _state(request)
    if _cross_site(request):
        return _refused("Resend refused", "Resend only works from the console page itself.", 403)
    form = await request.form()
    token = str(form.get("token") or "")
    if not hmac.compare_digest(token.encode(), state.console_token.encode()):
        return _refused("Resend refused", "The form is stale: reload the console and retry.", 403)
    event_id, webhook_id = str(form.get("event_id") or ""), str(form.get("webhook_id") or "")
    with state.lock:
        registered = webhook_id in state.webhooks
    if not registered:
        message = f"The webhook {webhook_id} is no longer registered."
        return _refused("Cannot resend", message, 409)
    before = state.dispatcher.resend(event_id, webhook_id)
    if before is None:
        message = f"No delivery of {event_id} to {webhook_id} in the console's history."
        return _refused("Cannot resend", message, 404)
    if state.dispatcher.running:
        # Wait for the attempt so the page the browser returns to shows its outcome.
        timeout = state.dispatcher.timeout + _WAIT_SLACK
        await anyio.to_thread.run_sync(
            state.dispatcher.wait_for_attempts, event_id, webhook_id, before, timeout
        )
    query = urlencode({"resent": event_id, "webhook": webhook_id})
    return RedirectResponse(f"/console?{query}#webhooks", status_code=303, headers=_HEADERS)


def console_routes() -> list[Route]:
    """The console page and its resend action, at the issuer's root."""
    return [
        Route("/console", _console, methods=["GET"]),
        Route("/console/resend", _resend, methods=["POST"]),
    ]
