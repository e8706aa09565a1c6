"""``webhook_view(receiver)``: Authonomy deliveries as a CSRF-exempt Django view."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..core import web
from ..webhooks import WebhookReceiver, WebhookResult
from ._http import to_response

__all__ = ["webhook_view"]

_CHUNK_BYTES = 64 * 1024


def _chunks(request: HttpRequest) -> Iterator[bytes]:
    while chunk := request.read(_CHUNK_BYTES):
        yield chunk


def webhook_view(receiver: WebhookReceiver) -> Callable[[HttpRequest], HttpResponse]:
    """A view that feeds deliveries to ``receiver``: ``path("webhooks/authonomy", ...)``.

    It is exempt from Django's CSRF check (deliveries are signed instead) and reads the
    raw body itself: ``Content-Length`` is checked before anything is read, and reading
    stops with 413 once the body passes ``receiver.max_body_bytes``. It answers 2xx only
    after the handlers succeeded; ``async def`` handlers run on an event loop.
    """

    @csrf_exempt
    def authonomy_webhook(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return to_response(web.method_not_allowed("POST"))
        result = _dispatch(receiver, request)
        return JsonResponse(result.body, status=result.status)

    return authonomy_webhook


def _dispatch(receiver: WebhookReceiver, request: HttpRequest) -> WebhookResult:
    headers = request.headers
    body = receiver.read_body(headers, _chunks(request))
    if isinstance(body, WebhookResult):
        return body
    if receiver.has_async_handlers:
        # Under ASGI this runs on the server's loop; under WSGI on a loop of its own.
        result: WebhookResult = async_to_sync(receiver.ahandle)(headers, body)
        return result
    return receiver.handle(headers, body)
