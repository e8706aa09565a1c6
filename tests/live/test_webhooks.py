"""Webhooks through each adapter's example app over real HTTP: a delivery the sandbox sends
after a sign-in is verified by the app and listed on its page."""

from __future__ import annotations

import time
import uuid

import httpx

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import sign

from ..adapters import Adapter
from ..browsing import browser, sign_in
from ..webhooks.conftest import event_body
from .conftest import WEBHOOK_SECRET, example


def test_example_lists_the_webhooks_authonomy_sends(adapter: Adapter) -> None:
    # A fresh sandbox: the module's clock has moved past the signature tolerance.
    with (
        Sandbox() as sandbox,
        example(adapter, sandbox) as live,
        AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as api,
        browser(live) as client,
    ):
        url = f"{live}/webhooks/authonomy"
        hook = api.webhooks.create(url=url, events=["user.authenticated"], secret=WEBHOOK_SECRET)
        try:
            sign_in(client, "bob")
            sandbox.wait_for_deliveries(lambda ds: any(d.url == url and d.ok for d in ds))
        finally:
            api.webhooks.delete(hook["id"])
        page = client.get("/webhooks")
    assert page.status_code == 200
    assert "user.authenticated" in page.text


def test_a_delivery_with_a_stray_authorization_header_is_judged_by_its_signature(
    adapter: Adapter, sandbox: Sandbox
) -> None:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = event_body(event_id)
    headers = {
        **sign(WEBHOOK_SECRET, event_id, int(time.time()), body),
        "content-type": "application/json",
        "authorization": "Bearer not-a-token",
    }
    with example(adapter, sandbox) as url, httpx.Client(base_url=url) as hook:
        answer = hook.post("/webhooks/authonomy", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
