"""Webhook bodies with duplicate keys are refused; the memory replay store never forgets
a recent id early, through the Starlette and Flask routes and Django's view (served by
waitress and uvicorn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from authonomy_integrations import StoreUnavailableError
from authonomy_integrations.stores._replay import ClaimState, MemoryReplayStore
from authonomy_integrations.webhooks import WebhookReceiver
from tests.adapters import adapter_named, post_body
from tests.webhooks.conftest import SECRET, make_delivery
from tests.webhooks.test_routes import PATH

from .apps import ADAPTERS, json_body

#: ``post(body, headers) -> (status, json, response headers with lower-case names)``.
Post = Callable[[bytes, dict[str, str]], tuple[int, dict[str, Any], dict[str, str]]]


@contextmanager
def route(adapter: str, receiver: WebhookReceiver) -> Iterator[Post]:
    """POST to the adapter's webhook route; yields a :data:`Post`."""
    entry = adapter_named(adapter)
    with entry.calling_app(lambda _url: entry.webhook_app(receiver, PATH)) as (client, _):

        def post(
            body: bytes, headers: dict[str, str]
        ) -> tuple[int, dict[str, Any], dict[str, str]]:
            answer = post_body(client, PATH, body, headers)
            return answer.status_code, json_body(answer), _lower(answer.headers)

        yield post


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _receiver(**options: Any) -> tuple[WebhookReceiver, list[str]]:
    receiver = WebhookReceiver(secret=SECRET, **options)
    calls: list[str] = []
    receiver.on_any(lambda event: calls.append(f"{event.id}:{event.type}"))
    return receiver, calls


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"evt_1","type":"session.revoked","data":{},"type":"user.authenticated"}',
        b'{"id":"evt_1","type":"user.authenticated","data":{"user":{"id":"a","id":"b"}}}',
        b'{"id":"evt_1","type":"user.authenticated","data":{"n":NaN}}',
    ],
)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_signed_body_with_duplicate_keys_or_non_json_numbers_is_refused(
    adapter: str, body: bytes
) -> None:
    receiver, calls = _receiver()
    delivery = make_delivery(body)
    with route(adapter, receiver) as post:
        status, answer, _ = post(delivery.body, delivery.headers)
    assert status == 400
    assert answer["error"]["details"] == {"reason": "body is not valid JSON"}
    assert calls == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_full_replay_store_refuses_new_ids_instead_of_forgetting_recent_ones(
    adapter: str,
) -> None:
    clock = Clock()
    store = MemoryReplayStore(maxsize=3, window=600, clock=clock)
    receiver, calls = _receiver(replay_store=store)
    deliveries = [make_delivery(event_id=f"evt_{index}") for index in range(4)]
    with route(adapter, receiver) as post:
        statuses = [post(d.body, d.headers)[0] for d in deliveries]
        replayed_status, replayed, _ = post(deliveries[0].body, deliveries[0].headers)
        clock.now += 600  # the first ids are out of the replay window now
        retried_status, _, _ = post(deliveries[3].body, deliveries[3].headers)
    assert statuses == [200, 200, 200, 503]
    assert replayed_status == 200
    assert replayed["data"]["duplicate"] is True
    assert retried_status == 200
    assert calls == [f"evt_{index}:user.authenticated" for index in (0, 1, 2, 3)]


class _OutOfReach(MemoryReplayStore):
    """A replay store that cannot be reached, like a Redis server that went away."""

    def claim(self, webhook_id: str, ttl: float) -> ClaimState:
        raise StoreUnavailableError("replay store out of reach")

    async def aclaim(self, webhook_id: str, ttl: float) -> ClaimState:
        raise StoreUnavailableError("replay store out of reach")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_unreachable_replay_store_answers_503_with_retry_after(adapter: str) -> None:
    receiver, calls = _receiver(replay_store=_OutOfReach())
    delivery = make_delivery(event_id="evt_unreachable")
    with route(adapter, receiver) as post:
        status, answer, headers = post(delivery.body, delivery.headers)
    assert status == 503
    assert answer["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    # The sender is told when to try again, whichever framework serves the route.
    assert headers["retry-after"] == "1"
    assert calls == []
