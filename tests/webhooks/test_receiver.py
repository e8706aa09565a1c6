"""WebhookReceiver: statuses, idempotency, concurrency and dispatch to handlers."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.stores._replay import MemoryReplayStore
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver, WebhookResult

from .conftest import OTHER_SECRET, SECRET, Delivery, event_body, make_delivery

LOGGER = "authonomy_integrations.webhooks"


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(secret=SECRET)


def error_code(result: WebhookResult) -> str:
    assert result.body["success"] is False
    return str(result.body["error"]["code"])


# -- outcomes ------------------------------------------------------------------------


def test_valid_delivery_runs_handler_and_acknowledges(
    receiver: WebhookReceiver, delivery: Delivery
) -> None:
    seen: list[WebhookEvent] = []
    receiver.on("user.authenticated")(seen.append)
    result = receiver.handle(delivery.headers, delivery.body)
    assert result.status == 200
    assert result.body == {"success": True, "data": {"received": True, "id": "evt_1"}}
    assert [event.id for event in seen] == ["evt_1"]


def test_failed_verification_is_400_with_reason_and_logged(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[WebhookEvent] = []
    receiver.on_any(seen.append)
    forged = make_delivery(secret=OTHER_SECRET)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        result = receiver.handle(forged.headers, forged.body)
    assert result.status == 400
    assert error_code(result) == "WEBHOOK_VERIFICATION_FAILED"
    assert result.body["error"]["details"] == {"reason": "no matching signature"}
    assert seen == []
    assert any("no matching signature" in r.getMessage() for r in caplog.records)


def test_body_over_limit_is_413(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET, max_body_bytes=len(delivery.body) - 1)
    result = receiver.handle(delivery.headers, delivery.body)
    assert result.status == 413
    assert error_code(result) == "PAYLOAD_TOO_LARGE"


def test_body_at_limit_is_accepted(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET, max_body_bytes=len(delivery.body))
    assert receiver.handle(delivery.headers, delivery.body).status == 200


def test_declared_content_length_over_limit_is_413_before_reading(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET, max_body_bytes=100)
    pulled: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        pulled.append(b"chunk")
        yield delivery.body

    headers = {**delivery.headers, "Content-Length": "5000"}
    result = receiver.handle_stream(headers, chunks())
    assert result.status == 413
    assert pulled == []


def test_streamed_body_over_limit_is_413_without_reading_the_rest(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET, max_body_bytes=100)
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index in range(1000):
            pulled.append(index)
            yield b"x" * 60

    result = receiver.handle_stream(delivery.headers, chunks())
    assert result.status == 413
    assert len(pulled) == 2


async def test_async_stream_over_limit_is_413(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET, max_body_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1000):
            yield b"x" * 60

    assert (await receiver.ahandle_stream(delivery.headers, chunks())).status == 413


def test_streamed_body_within_limit_is_handled(
    receiver: WebhookReceiver, delivery: Delivery
) -> None:
    body = delivery.body
    chunks = iter([body[:10], body[10:]])
    assert receiver.handle_stream(delivery.headers, chunks).status == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/jsonx", "form"])
def test_wrong_content_type_is_415(
    receiver: WebhookReceiver, delivery: Delivery, content_type: str | None
) -> None:
    headers = {k: v for k, v in delivery.headers.items() if k != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    result = receiver.handle(headers, delivery.body)
    assert result.status == 415
    assert error_code(result) == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_with_parameters_is_accepted(
    receiver: WebhookReceiver, delivery: Delivery, content_type: str
) -> None:
    headers = {**delivery.headers, "content-type": content_type}
    assert receiver.handle(headers, delivery.body).status == 200


def test_no_handler_for_type_still_acknowledges(receiver: WebhookReceiver) -> None:
    unknown = make_delivery(event_type="something.new")
    assert receiver.handle(unknown.headers, unknown.body).status == 200


# -- handler failures and replays ------------------------------------------------------


def test_handler_error_is_500_then_retry_runs_and_succeeds(
    receiver: WebhookReceiver, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    @receiver.on("user.authenticated")
    def flaky(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    with caplog.at_level(logging.ERROR, logger=LOGGER):
        first = receiver.handle(delivery.headers, delivery.body)
    assert first.status == 500
    assert error_code(first) == "INTERNAL_ERROR"
    assert "database down" not in str(first.body)
    assert any(r.exc_info and "flaky" in r.getMessage() for r in caplog.records)
    second = receiver.handle(delivery.headers, delivery.body)
    assert second.status == 200
    assert "duplicate" not in second.body["data"]
    assert calls == ["evt_1", "evt_1"]


def test_replay_after_success_is_acknowledged_without_running_handler(
    receiver: WebhookReceiver, delivery: Delivery
) -> None:
    calls: list[str] = []
    receiver.on("user.authenticated")(lambda event: calls.append(event.id))
    receiver.handle(delivery.headers, delivery.body)
    replay = receiver.handle(delivery.headers, delivery.body)
    assert replay.status == 200
    assert replay.body["data"] == {"received": True, "id": "evt_1", "duplicate": True}
    assert calls == ["evt_1"]


def test_replay_is_recognised_by_id_even_with_fresh_signature(receiver: WebhookReceiver) -> None:
    calls: list[str] = []
    receiver.on_any(lambda event: calls.append(event.id))
    first = make_delivery(timestamp=None)
    receiver.handle(first.headers, first.body)
    retry = make_delivery(first.body, timestamp=None)
    assert receiver.handle(retry.headers, retry.body).body["data"]["duplicate"] is True
    assert calls == ["evt_1"]


def test_failed_verification_does_not_mark_id_as_seen(receiver: WebhookReceiver) -> None:
    forged = make_delivery(secret=OTHER_SECRET)
    receiver.handle(forged.headers, forged.body)
    genuine = make_delivery()
    assert receiver.handle(genuine.headers, genuine.body).body["data"] == {
        "received": True,
        "id": "evt_1",
    }


def test_interrupted_handler_releases_claim(receiver: WebhookReceiver, delivery: Delivery) -> None:
    calls: list[int] = []

    @receiver.on_any
    def interrupted(event: WebhookEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        receiver.handle(delivery.headers, delivery.body)
    assert receiver.handle(delivery.headers, delivery.body).status == 200
    assert len(calls) == 2


def test_concurrent_threads_with_same_id_run_handler_once(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    entered = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    @receiver.on("user.authenticated")
    def slow(event: WebhookEvent) -> None:
        calls.append(event.id)
        entered.set()
        assert release.wait(10)

    results: list[WebhookResult] = []
    first = threading.Thread(
        target=lambda: results.append(receiver.handle(delivery.headers, delivery.body))
    )
    first.start()
    assert entered.wait(10)
    concurrent = receiver.handle(delivery.headers, delivery.body)
    release.set()
    first.join(10)
    assert concurrent.status == 409
    assert error_code(concurrent) == "WEBHOOK_IN_PROGRESS"
    assert [r.status for r in results] == [200]
    assert calls == ["evt_1"]
    assert receiver.handle(delivery.headers, delivery.body).body["data"]["duplicate"] is True


async def test_concurrent_tasks_with_same_id_run_handler_once(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    entered = asyncio.Event()
    release = asyncio.Event()
    calls: list[str] = []

    @receiver.on("user.authenticated")
    async def slow(event: WebhookEvent) -> None:
        calls.append(event.id)
        entered.set()
        await release.wait()

    first = asyncio.create_task(receiver.ahandle(delivery.headers, delivery.body))
    await asyncio.wait_for(entered.wait(), 10)
    concurrent = await receiver.ahandle(delivery.headers, delivery.body)
    release.set()
    assert concurrent.status == 409
    assert (await asyncio.wait_for(first, 10)).status == 200
    assert calls == ["evt_1"]


def test_expired_claim_lets_a_retry_run(delivery: Delivery) -> None:
    clock = [0.0]
    store = MemoryReplayStore(clock=lambda: clock[0])
    receiver = WebhookReceiver(secret=SECRET, replay_store=store, claim_ttl=30)
    assert store.claim("evt_1", 30) == "new"  # a worker that died mid-handler
    calls: list[str] = []
    receiver.on_any(lambda event: calls.append(event.id))
    assert receiver.handle(delivery.headers, delivery.body).status == 409
    clock[0] = 31.0
    assert receiver.handle(delivery.headers, delivery.body).status == 200
    assert calls == ["evt_1"]


# -- dispatch --------------------------------------------------------------------------


def test_type_handlers_then_catch_all_run_in_order(receiver: WebhookReceiver) -> None:
    order: list[str] = []
    receiver.on_any(lambda event: order.append(f"any:{event.type}"))
    receiver.on("policy.violated")(lambda event: order.append("policy"))
    receiver.on("user.authenticated", "policy.violated")(lambda event: order.append("both"))
    violated = make_delivery(event_id="evt_a", event_type="policy.violated")
    login = make_delivery(event_id="evt_b", event_type="user.authenticated")
    receiver.handle(violated.headers, violated.body)
    receiver.handle(login.headers, login.body)
    assert order == ["policy", "both", "any:policy.violated", "both", "any:user.authenticated"]


def test_catch_all_receives_unknown_event_types(receiver: WebhookReceiver) -> None:
    seen: list[str] = []
    receiver.on("user.authenticated")(lambda event: seen.append("typed"))
    receiver.on_any(lambda event: seen.append(event.type))
    unknown = make_delivery(event_type="billing.changed")
    assert receiver.handle(unknown.headers, unknown.body).status == 200
    assert seen == ["billing.changed"]


async def test_ahandle_runs_async_and_sync_handlers(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    @receiver.on("user.authenticated")
    async def async_handler(event: WebhookEvent) -> None:
        threads["async"] = threading.get_ident()

    @receiver.on_any
    def sync_handler(event: WebhookEvent) -> None:
        threads["sync"] = threading.get_ident()

    result = await receiver.ahandle(delivery.headers, delivery.body)
    assert result.status == 200
    assert threads["async"] == loop_thread
    assert threads["sync"] != loop_thread


async def test_async_handler_error_is_500_then_retry_succeeds(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    calls: list[int] = []

    @receiver.on_any
    async def flaky(event: WebhookEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom")

    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 500
    assert (await receiver.ahandle(delivery.headers, delivery.body)).status == 200
    assert (await receiver.ahandle(delivery.headers, delivery.body)).body["data"]["duplicate"]
    assert len(calls) == 2


def test_handle_refuses_async_handler_clearly_and_keeps_id_retryable(
    delivery: Delivery,
) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    calls: list[str] = []

    @receiver.on("user.authenticated")
    async def async_only(event: WebhookEvent) -> None:
        calls.append(event.id)

    with pytest.raises(TypeError, match="ahandle"):
        receiver.handle(delivery.headers, delivery.body)
    assert asyncio.run(receiver.ahandle(delivery.headers, delivery.body)).status == 200
    assert calls == ["evt_1"]


def test_handler_returning_awaitable_in_handle_fails_the_delivery(delivery: Delivery) -> None:
    receiver = WebhookReceiver(secret=SECRET)

    async def work() -> None:
        return None

    receiver.on_any(lambda event: work())
    assert receiver.handle(delivery.headers, delivery.body).status == 500


# -- construction ----------------------------------------------------------------------


def test_receiver_reads_every_webhook_secret_from_config() -> None:
    config = AuthonomyConfig(audience="app_123", webhook_secret=[SECRET, OTHER_SECRET])
    receiver = WebhookReceiver(config)
    rotated = make_delivery(secret=OTHER_SECRET)
    assert receiver.handle(rotated.headers, rotated.body).status == 200


def test_receiver_without_secret_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError) as caught:
        WebhookReceiver(AuthonomyConfig(audience="app_123"))
    assert caught.value.field == "webhook_secret"


def test_receiver_rejects_nonsense_limits() -> None:
    with pytest.raises(ConfigurationError):
        WebhookReceiver(secret=SECRET, max_body_bytes=0)
    with pytest.raises(ConfigurationError):
        WebhookReceiver(secret=SECRET, claim_ttl=0)


def test_tolerance_is_applied_with_receiver_clock() -> None:
    receiver = WebhookReceiver(secret=SECRET, tolerance=60, clock=lambda: 2_000_000_000.0)
    delivery = make_delivery(event_body(), timestamp=2_000_000_000 - 61)
    result = receiver.handle(delivery.headers, delivery.body)
    assert result.body["error"]["details"] == {"reason": "timestamp too old"}


def test_on_without_event_type_is_an_error(receiver: WebhookReceiver) -> None:
    with pytest.raises(TypeError):
        receiver.on()
