"""A receiver whose Redis replay store goes away: nothing is acknowledged that was not
recorded, and a delivery whose handler ran but could not be recorded runs again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authonomy_integrations.stores._replay import RedisReplayStore
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from ..redis_servers import RedisServer, cli
from .conftest import SECRET, make_delivery


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisReplayStore]:
    replay = RedisReplayStore(redis_server.url, timeout=1.0)
    yield replay
    replay.close()


def test_claim_while_redis_is_down_is_503_and_runs_nothing(
    redis_server: RedisServer, store: RedisReplayStore
) -> None:
    receiver = WebhookReceiver(secret=SECRET, replay_store=store)
    runs: list[str] = []
    receiver.on_any(lambda event: runs.append(event.id))
    delivery = make_delivery(event_id="evt_down")
    redis_server.stop()
    result = receiver.handle(delivery.headers, delivery.body)
    assert (result.status, result.headers) == (503, {"retry-after": "1"})
    assert result.body["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    assert runs == []
    redis_server.start()
    assert receiver.handle(delivery.headers, delivery.body).status == 200
    assert runs == ["evt_down"]


def test_handler_that_ran_but_was_not_recorded_runs_again(
    redis_server: RedisServer, store: RedisReplayStore
) -> None:
    receiver = WebhookReceiver(secret=SECRET, replay_store=store)
    runs: list[str] = []

    @receiver.on_any
    def handle(event: WebhookEvent) -> None:
        runs.append(event.id)
        if len(runs) == 1:
            redis_server.stop()  # Redis dies after the claim, before the completion

    delivery = make_delivery(event_id="evt_unrecorded")
    assert receiver.handle(delivery.headers, delivery.body).status == 503
    redis_server.start()
    # The in-progress claim was persisted; what its expiry does after the claim ttl:
    assert cli(redis_server.port, "del", "authonomy:webhook:{evt_unrecorded}") == "1"
    assert receiver.handle(delivery.headers, delivery.body).status == 200
    assert receiver.handle(delivery.headers, delivery.body).body["data"]["duplicate"] is True
    assert runs == ["evt_unrecorded", "evt_unrecorded"]


async def test_async_receiver_does_not_acknowledge_while_redis_is_down(
    redis_server: RedisServer, store: RedisReplayStore
) -> None:
    receiver = WebhookReceiver(secret=SECRET, replay_store=store)
    runs: list[str] = []

    @receiver.on_any
    async def handle(event: WebhookEvent) -> None:
        runs.append(event.id)

    delivery = make_delivery(event_id="evt_async_down")
    redis_server.stop()
    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 503
    redis_server.start()
    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 200
    assert runs == ["evt_async_down"]
    await store.aclose()
