"""The test URLconf's webhook receivers: one with a blocking handler, one with an async one."""

from __future__ import annotations

from authonomy_integrations.stores._replay import MemoryReplayStore
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from .helpers import WEBHOOK_SECRET

#: Event ids the webhook handlers ran for, in order.
HANDLED: list[str] = []

blocking_receiver = WebhookReceiver(secret=WEBHOOK_SECRET, replay_store=MemoryReplayStore())
async_receiver = WebhookReceiver(secret=WEBHOOK_SECRET, replay_store=MemoryReplayStore())


@blocking_receiver.on_any
def on_event(event: WebhookEvent) -> None:
    HANDLED.append(event.id)


@async_receiver.on_any
async def on_event_async(event: WebhookEvent) -> None:
    HANDLED.append(event.id)
