"""Webhooks through each adapter's example app over real HTTP: a delivery the sandbox sends
after a sign-in is verified by the app and listed on its page."""

from __future__ import annotations

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox

from ..browsing import browser, sign_in
from .conftest import WEBHOOK_SECRET, example


def test_example_lists_the_webhooks_authonomy_sends(adapter: str) -> None:
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
