"""Webhook bodies with duplicate keys are refused; the memory replay store never forgets
a recent id early, through the Starlette and Flask routes and Django's view (served by
waitress and uvicorn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import httpx
import pytest
from django.urls import path
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig, StoreUnavailableError
from authonomy_integrations.django import webhook_view
from authonomy_integrations.stores._replay import ClaimState, MemoryReplayStore
from authonomy_integrations.webhooks import WebhookReceiver
from tests.webhooks.conftest import SECRET, make_delivery
from tests.webhooks.test_routes import PATH, flask_app, starlette_app

from .apps import ADAPTERS, serve_django

#: ``post(body, headers) -> (status, json, response headers with lower-case names)``.
Post = Callable[[bytes, dict[str, str]], tuple[int, dict[str, Any], dict[str, str]]]


#: The Django app's middleware needs a configuration; deliveries use none of it.
_API_ONLY = AuthonomyConfig(
    audience="app_webhook_edges",
    environment="sandbox",
    api_base_url="http://127.0.0.1:9/v1",
    issuer="http://127.0.0.1:9",
    login_path=None,
)


@contextmanager
def route(adapter: str, receiver: WebhookReceiver) -> Iterator[Post]:
    """POST to the adapter's webhook route; yields a :data:`Post`."""
    if adapter == "flask":
        client = flask_app(receiver).test_client()

        def post_flask(
            body: bytes, headers: dict[str, str]
        ) -> tuple[int, dict[str, Any], dict[str, str]]:
            answer = client.post(PATH, data=body, headers=headers)
            return answer.status_code, answer.get_json(), _lower(answer.headers)

        yield post_flask
        return
    if adapter.startswith("django"):
        urls = ModuleType("webhook_test_urls")
        urls.urlpatterns = [path(PATH.lstrip("/"), webhook_view(receiver))]  # type: ignore[attr-defined]
        with (
            serve_django(_API_ONLY, None, asgi=adapter == "django-asgi", urls=urls) as (url, _),
            httpx.Client(base_url=url, timeout=30) as http,
        ):

            def post_django(
                body: bytes, headers: dict[str, str]
            ) -> tuple[int, dict[str, Any], dict[str, str]]:
                answer = http.post(PATH, content=body, headers=headers)
                return answer.status_code, answer.json(), _lower(answer.headers)

            yield post_django
        return
    with TestClient(starlette_app(receiver)) as test_client:

        def post_starlette(
            body: bytes, headers: dict[str, str]
        ) -> tuple[int, dict[str, Any], dict[str, str]]:
            answer = test_client.post(PATH, content=body, headers=headers)
            return answer.status_code, answer.json(), _lower(answer.headers)

        yield post_starlette


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
