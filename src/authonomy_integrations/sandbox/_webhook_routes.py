"""``/v1/webhooks``: register, list and delete receivers."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from starlette.routing import Route

from ._api import Call, api_route
from ._clock import isoformat
from ._envelope import ApiError, ApiReply
from ._models import Subscription
from ._state import SandboxState
from ._validation import (
    check_url,
    json_object,
    list_reply,
    optional_str,
    optional_str_list,
    reject_unknown_fields,
    required_str,
)

__all__ = ["EVENT_TYPES", "webhook_routes"]

#: Every event type the sandbox can send.
EVENT_TYPES = (
    "user.authenticated",
    "user.logged_out",
    "session.revoked",
    "policy.violated",
    "customer.created",
    "customer.updated",
    "idp.configured",
    "policy.created",
    "policy.updated",
)


def _webhook_json(hook: Subscription) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": list(hook.events),
        "created_at": isoformat(hook.created_at),
    }


def _events(body: dict[str, Any]) -> tuple[str, ...]:
    events = optional_str_list(body, "events")
    if not events:
        raise ApiError.invalid_request("Missing required field 'events'", field="events")
    for event in events:
        if event not in EVENT_TYPES:
            raise ApiError.validation(
                f"Unknown event type '{event}'", field="events", allowed=list(EVENT_TYPES)
            )
    return tuple(dict.fromkeys(events))


def _secret(body: dict[str, Any]) -> tuple[str, bool]:
    secret = optional_str(body, "secret")
    if secret is None:
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(), True
    if not secret:
        raise ApiError.validation("secret must not be empty", field="secret")
    if secret.startswith("whsec_"):
        try:
            base64.b64decode(secret[len("whsec_") :], validate=True)
        except binascii.Error:
            raise ApiError.validation("whsec_ secret is not valid base64", field="secret") from None
    return secret, False


async def _create(call: Call) -> ApiReply:
    body = await json_object(call.request)
    reject_unknown_fields(body, ("url", "events", "secret"))
    url = check_url("url", required_str(body, "url"))
    events = _events(body)
    secret, generated = _secret(body)
    hook = Subscription(call.state.new_id("wh"), url, events, secret, call.state.clock.now())
    with call.state.lock:
        call.state.webhooks[hook.id] = hook
    call.state.audit(call.key, "webhook.created", "webhook", hook.id, url=url)
    data = _webhook_json(hook)
    if generated:
        # Shown once so the caller can verify deliveries; never listed again.
        data["secret"] = secret
    return ApiReply(data, status=201)


async def _list(call: Call) -> ApiReply:
    with call.state.lock:
        items = [_webhook_json(hook) for hook in call.state.webhooks.values()]
    return list_reply(items, call.request, sort_fields=("created_at", "url"))


async def _delete(call: Call) -> ApiReply:
    webhook_id = call.request.path_params["webhook_id"]
    with call.state.lock:
        if call.state.webhooks.pop(webhook_id, None) is None:
            raise ApiError.not_found(f"Webhook '{webhook_id}' not found", webhook_id=webhook_id)
    call.state.dispatcher.cancel(webhook_id)
    call.state.audit(call.key, "webhook.deleted", "webhook", webhook_id)
    return ApiReply({"id": webhook_id, "deleted": True})


def webhook_routes(state: SandboxState) -> list[Route]:
    """The webhook endpoints (category ``management``)."""
    table = [
        ("/webhooks", _list, "GET", "read"),
        ("/webhooks", _create, "POST", "configuration"),
        ("/webhooks/{webhook_id}", _delete, "DELETE", "configuration"),
    ]
    return [
        api_route(state, path, handler, methods=[method], category="management", permission=perm)
        for path, handler, method, perm in table
    ]
