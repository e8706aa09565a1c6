"""The drop-in webhook routes: Starlette, FastAPI and Flask."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient; httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from authonomy_integrations.flask._webhooks import make_webhook_view
from authonomy_integrations.starlette._webhooks import webhook_endpoint
from authonomy_integrations.webhooks import WebhookEvent, WebhookReceiver

from .conftest import OTHER_SECRET, SECRET, make_delivery

PATH = "/webhooks/authonomy"


def recording_receiver(**options: Any) -> tuple[WebhookReceiver, list[str]]:
    receiver = WebhookReceiver(secret=SECRET, **options)
    calls: list[str] = []
    receiver.on("user.authenticated")(lambda event: calls.append(event.id))
    return receiver, calls


def starlette_app(receiver: WebhookReceiver) -> Starlette:
    app = Starlette()
    app.add_route(PATH, webhook_endpoint(receiver), methods=["POST"])
    return app


def flask_app(receiver: WebhookReceiver) -> Flask:
    app = Flask(__name__)
    app.add_url_rule(PATH, view_func=make_webhook_view(receiver), methods=["POST"])
    return app


# -- Starlette -----------------------------------------------------------------------


def test_starlette_route_acknowledges_then_dedupes() -> None:
    receiver, calls = recording_receiver()
    delivery = make_delivery()
    with TestClient(starlette_app(receiver)) as client:
        first = client.post(PATH, content=delivery.body, headers=delivery.headers)
        again = client.post(PATH, content=delivery.body, headers=delivery.headers)
    assert first.status_code == 200
    assert first.json() == {"success": True, "data": {"received": True, "id": "evt_1"}}
    assert again.json()["data"]["duplicate"] is True
    assert calls == ["evt_1"]


def test_starlette_route_refuses_forgery_and_wrong_content_type() -> None:
    receiver, calls = recording_receiver()
    forged = make_delivery(secret=OTHER_SECRET)
    genuine = make_delivery()
    with TestClient(starlette_app(receiver)) as client:
        refused = client.post(PATH, content=forged.body, headers=forged.headers)
        plain = client.post(
            PATH, content=genuine.body, headers={**genuine.headers, "content-type": "text/plain"}
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"reason": "no matching signature"}
    assert plain.status_code == 415
    assert calls == []


def test_starlette_route_refuses_large_declared_body() -> None:
    receiver, calls = recording_receiver(max_body_bytes=64)
    delivery = make_delivery()
    with TestClient(starlette_app(receiver)) as client:
        response = client.post(PATH, content=delivery.body, headers=delivery.headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert calls == []


async def test_starlette_route_stops_reading_a_streamed_body_past_the_limit() -> None:
    receiver, _ = recording_receiver(max_body_bytes=100)
    app = starlette_app(receiver)
    delivery = make_delivery()
    headers = [(k.encode(), v.encode()) for k, v in delivery.headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 60, "more_body": pulled < 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled == 2


def test_starlette_route_runs_async_handler_and_retries_after_failure() -> None:
    receiver = WebhookReceiver(secret=SECRET)
    calls: list[str] = []

    @receiver.on_any
    async def flaky(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("not yet")

    delivery = make_delivery()
    with TestClient(starlette_app(receiver)) as client:
        failed = client.post(PATH, content=delivery.body, headers=delivery.headers)
        retried = client.post(PATH, content=delivery.body, headers=delivery.headers)
    assert (failed.status_code, retried.status_code) == (500, 200)
    assert calls == ["evt_1", "evt_1"]


# -- FastAPI -------------------------------------------------------------------------


@pytest.mark.parametrize("mount", ["add_api_route", "add_route"])
def test_fastapi_route_handles_deliveries(mount: str) -> None:
    receiver, calls = recording_receiver()
    app = FastAPI()
    getattr(app, mount)(PATH, webhook_endpoint(receiver), methods=["POST"])
    delivery = make_delivery()
    forged = make_delivery(secret=OTHER_SECRET)
    with TestClient(app) as client:
        accepted = client.post(PATH, content=delivery.body, headers=delivery.headers)
        refused = client.post(PATH, content=forged.body, headers=forged.headers)
    assert accepted.status_code == 200
    assert accepted.json()["data"]["id"] == "evt_1"
    assert refused.status_code == 400
    assert calls == ["evt_1"]


# -- Flask ---------------------------------------------------------------------------


def test_flask_view_acknowledges_then_dedupes() -> None:
    receiver, calls = recording_receiver()
    delivery = make_delivery()
    client = flask_app(receiver).test_client()
    first = client.post(PATH, data=delivery.body, headers=delivery.headers)
    again = client.post(PATH, data=delivery.body, headers=delivery.headers)
    assert first.status_code == 200
    assert first.get_json() == {"success": True, "data": {"received": True, "id": "evt_1"}}
    assert again.get_json()["data"]["duplicate"] is True
    assert calls == ["evt_1"]


def test_flask_view_refuses_forgery_and_wrong_content_type() -> None:
    receiver, calls = recording_receiver()
    forged = make_delivery(secret=OTHER_SECRET)
    genuine = make_delivery()
    client = flask_app(receiver).test_client()
    refused = client.post(PATH, data=forged.body, headers=forged.headers)
    headers = {k: v for k, v in genuine.headers.items() if k != "content-type"}
    plain = client.post(PATH, data=genuine.body, headers=headers, content_type="text/plain")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"] == {"reason": "no matching signature"}
    assert plain.status_code == 415
    assert calls == []


class UnreadableBody(io.BytesIO):
    """A request body of known length that must never be read."""

    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read despite its declared length")

    read1 = read

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read despite its declared length")


def test_flask_view_refuses_large_content_length_before_reading() -> None:
    receiver, calls = recording_receiver(max_body_bytes=1024)
    delivery = make_delivery()
    client = flask_app(receiver).test_client()
    response = client.post(PATH, input_stream=UnreadableBody(b"x" * 4096), headers=delivery.headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert calls == []


def test_flask_view_stops_reading_a_streamed_body_past_the_limit() -> None:
    receiver, _ = recording_receiver(max_body_bytes=100)
    delivery = make_delivery()
    stream = io.BytesIO(b"x" * (1024 * 1024))
    client = flask_app(receiver).test_client()
    response = client.post(
        PATH,
        input_stream=stream,
        headers=delivery.headers,
        # No declared length: a chunked upload that only the streaming check can stop.
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413
    assert stream.tell() < 1024 * 1024


def test_flask_view_runs_async_handlers() -> None:
    receiver = WebhookReceiver(secret=SECRET)
    calls: list[str] = []

    @receiver.on("user.authenticated")
    async def on_login(event: WebhookEvent) -> None:
        calls.append(event.id)

    delivery = make_delivery()
    response = (
        flask_app(receiver).test_client().post(PATH, data=delivery.body, headers=delivery.headers)
    )
    assert response.status_code == 200
    assert calls == ["evt_1"]


def test_flask_view_handler_failure_is_500_then_retry_succeeds() -> None:
    receiver = WebhookReceiver(secret=SECRET)
    calls: list[str] = []

    @receiver.on_any
    def flaky(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("not yet")

    delivery = make_delivery()
    client = flask_app(receiver).test_client()
    failed = client.post(PATH, data=delivery.body, headers=delivery.headers)
    retried = client.post(PATH, data=delivery.body, headers=delivery.headers)
    assert (failed.status_code, retried.status_code) == (500, 200)
    assert calls == ["evt_1", "evt_1"]
