"""Sandbox deliveries reach the example apps over real HTTP: retried after a handler
failure, and run once however often the same event is delivered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import httpx
import pytest
from flask import Flask
from quart import Quart

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver
from tests.adapters import example_app
from tests.serving import serve
from tests.webhooks.conftest import make_delivery

SECRET = "whsec_ZXhhbXBsZS1hcHAtd2ViaG9vay1zZWNyZXQtMDEy"
#: Retries after 50 ms, so a failed delivery comes back within the test.
FAST_RETRIES = (0.05, 0.05, 0.05, 0.05, 0.05)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(webhook_retry_schedule=FAST_RETRIES) as sandbox:
        yield sandbox


def _receiver_of(app: Any) -> WebhookReceiver:
    """The webhook receiver the example app made from its configuration."""
    if isinstance(app, Flask | Quart):
        receiver: WebhookReceiver = app.extensions["authonomy.webhooks"]
        return receiver
    return cast(WebhookReceiver, app.state.webhook_receiver)


@contextmanager
def served(adapter: str, sb: Sandbox) -> Iterator[tuple[str, WebhookReceiver]]:
    """The adapter's example app with the webhook secret, served; its URL and receiver."""
    made: list[Any] = []

    def make(url: str) -> Any:
        made.append(example_app(adapter, sb.config(app_url=url, webhook_secret=SECRET)))
        return made[0]

    with serve(make) as base_url:
        yield base_url, _receiver_of(made[0])


class FlakyHandler:
    """Fails the first delivery of each event, then records it."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, event: WebhookEvent) -> None:
        with self.lock:
            self.calls[event.id] = self.calls.get(event.id, 0) + 1
            if self.calls[event.id] == 1:
                raise RuntimeError("the database is busy")


@pytest.mark.parametrize("adapter", ["starlette", "flask", "quart"])
def test_delivery_is_retried_after_a_handler_failure_and_a_replay_runs_nothing(
    sb: Sandbox, adapter: str
) -> None:
    with served(adapter, sb) as (base_url, receiver):
        flaky = FlakyHandler()
        receiver.on("customer.created")(flaky)
        url = f"{base_url}/webhooks/authonomy"
        with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
            hook = client.webhooks.create(url=url, events=["customer.created"], secret=SECRET)
            try:
                client.customers.create(id=f"hooks-{adapter}", name=f"Hooks {adapter}")
                deliveries = sb.wait_for_deliveries(
                    lambda log: any(d.url == url and d.ok for d in log), timeout=15
                )
            finally:
                client.webhooks.delete(hook["id"])
        ours = [d for d in deliveries if d.url == url]
        assert [d.status_code for d in ours] == [500, 200]
        event_id = ours[0].event_id
        assert flaky.calls == {event_id: 2}

        replayed = _replay(url, event_id)
        assert replayed.status_code == 200
        assert replayed.json()["data"]["duplicate"] is True
        assert flaky.calls == {event_id: 2}


def _replay(url: str, event_id: str) -> httpx.Response:
    """The same event delivered again, signed afresh as Authonomy's retry would be."""
    delivery = make_delivery(event_id=event_id, event_type="customer.created", secret=SECRET)
    return httpx.post(url, content=delivery.body, headers=delivery.headers, timeout=10)
