"""``webhook_view(receiver)``: Authonomy deliveries as a CSRF-exempt Django view, the shared
delivery (:mod:`..webhooks._views`) on Django's request."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .._core import web
from .._runtime import AuthonomyAsync
from ..webhooks import WebhookReceiver
from ..webhooks._receiver import Handler
from ..webhooks._views import deliver
from ._http import REQUEST_KEY, RequestAuth, to_response

__all__ = ["webhook_view"]


def webhook_view(receiver: WebhookReceiver) -> Callable[[HttpRequest], HttpResponse]:
    """A view that feeds deliveries to ``receiver``: ``path("webhooks/authonomy", ...)``.

    It is exempt from Django's CSRF check (deliveries are signed instead) and reads the
    raw body itself: ``Content-Length`` is checked before anything is read, and reading
    stops with 413 once the body passes ``receiver.max_body_bytes``. It answers 2xx only
    after the handlers succeeded; ``async def`` handlers run on an event loop.

    Behind :class:`AuthonomyMiddleware`, ``user.logged_out`` and ``session.revoked``
    also end the matching sessions and refuse their tokens (back-channel logout),
    before the receiver's own handlers run.
    """

    @csrf_exempt
    def authonomy_webhook(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return to_response(web.method_not_allowed("POST"))
        # The view also works without the middleware; back-channel logout needs its sessions.
        found = getattr(request, REQUEST_KEY, None)
        runtime = found.runtime if isinstance(found, RequestAuth) else None
        afirst: Sequence[Handler] = (runtime.back_channel_logout,) if runtime else ()
        first = afirst
        if isinstance(runtime, AuthonomyAsync):
            # Blocking handlers stay in this view's thread; the async runtime runs on the
            # server's loop, as the guards run it.
            first = (async_to_sync(runtime.back_channel_logout),)
        reply = deliver(
            receiver,
            request.headers,
            request.read,
            first=first,
            afirst=afirst,
            # Under ASGI this runs on the server's loop; under WSGI on a loop of its own.
            run_async=lambda start: async_to_sync(start)(),
        )
        return to_response(reply)

    return authonomy_webhook
