"""The sandbox console as a person uses it, in a real (headless) Chromium.

A user signs in to the FastAPI example through the hosted pages, signs out, and another
signs in with MFA; the console then shows those logins, tokens, the revoked session and
the webhook the example received, and its Resend button sends the event again. The
screenshots land in the test's tmp dir, for a person to look at.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from authonomy_integrations.sandbox import SANDBOX_MFA_CODE, Sandbox
from examples.fastapi_app import create_app as create_fastapi_app
from tests.serving import serve

from .chromium import launch_chromium

SECRET = "whsec_" + base64.b64encode(b"console-in-chromium-test-secret!").decode()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


def _subscribe(sb: Sandbox, url: str) -> None:
    headers = {"Authorization": f"Bearer {sb.api_key}"}
    body = {"url": url, "events": ["user.authenticated"], "secret": SECRET}
    response = httpx.post(f"{sb.api_base_url}/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.text


def _sign_in(page: Any, app_url: str, name: str, *, mfa: bool = False) -> None:
    page.goto(f"{app_url}/profile")
    page.get_by_role("button", name=name).click()
    if mfa:
        page.get_by_label("One-time code").fill(SANDBOX_MFA_CODE)
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{app_url}/profile")


def _rows(page: Any, section: str) -> Any:
    return page.locator(f"#{section} tbody tr")


def test_console_shows_activity_and_resends_a_delivery(
    sb: Sandbox, chromium: Any, tmp_path: Path
) -> None:
    config = sb.config(webhook_secret=SECRET)
    with serve(lambda url: create_fastapi_app(config.replace(app_url=url))) as app_url:
        _subscribe(sb, f"{app_url}{config.webhook_path}")
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _sign_in(page, app_url, "Bob Brown")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        _sign_in(page, app_url, "Alice", mfa=True)
        sb.wait_for_deliveries(lambda log: len(log) == 2)

        page.goto(f"{sb.issuer}/console")
        expect(page.get_by_role("heading", level=1)).to_have_text("Authonomy sandbox console")
        logins = _rows(page, "logins")
        expect(logins).to_have_count(2)
        expect(logins.nth(0)).to_contain_text("alice@acme-corp.com")
        expect(logins.nth(0).locator("td").nth(3)).to_have_text("yes")
        expect(logins.nth(1)).to_contain_text("bob@acme-corp.com")
        expect(logins.nth(1)).to_contain_text("signed in")
        expect(_rows(page, "tokens")).to_have_count(2)
        expect(_rows(page, "sessions")).to_have_count(1)
        expect(_rows(page, "sessions").nth(0)).to_contain_text("signed out")
        deliveries = _rows(page, "webhooks")
        expect(deliveries).to_have_count(2)
        newest = deliveries.nth(0)
        expect(newest).to_contain_text("user.authenticated")
        expect(newest).to_contain_text(f"{app_url}{config.webhook_path}")
        expect(newest.locator("td").nth(3)).to_have_text("1")
        expect(newest.locator("td").nth(4)).to_have_text("HTTP 200")
        page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

        newest.get_by_role("button").click()
        page.wait_for_url(f"{sb.issuer}/console?*")
        expect(page.get_by_role("status")).to_contain_text("again to")
        expect(_rows(page, "webhooks").nth(0).locator("td").nth(3)).to_have_text("2")
        page.screenshot(path=str(tmp_path / "console-after-resend.png"), full_page=True)
        context.close()

    received = [d for d in sb.deliveries if d.attempt == 2]
    assert len(received) == 1
    assert received[0].ok, "the example app accepted the resent, freshly signed event"
    assert (tmp_path / "console.png").stat().st_size > 0
