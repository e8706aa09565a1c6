"""A person's path through the example apps, in a real (headless) Chromium.

Real browser behaviour is what these pin: cookies set on redirects, SameSite=Lax on the
return from the sign-in pages, forms without JavaScript, and the Origin header a browser
sends with the sign-out form, which the logout route's CSRF check must accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations.sandbox import SANDBOX_MFA_CODE, Sandbox
from tests.adapters import ADAPTERS, Adapter, serve_example

from .chromium import launch_chromium


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


@pytest.mark.parametrize("adapter", ADAPTERS, ids=str)
def test_sign_in_step_up_to_mfa_and_sign_out(sb: Sandbox, chromium: Any, adapter: Adapter) -> None:
    with serve_example(adapter, lambda url: sb.config(app_url=url)) as app_url:
        context = chromium.new_context()
        page = context.new_page()
        missing: list[str] = []
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        page.goto(f"{app_url}/")
        assert page.get_by_role("link", name="Sign in").count() >= 1
        page.goto(f"{app_url}/profile")
        assert page.url.startswith(sb.issuer), "a signed-out visit goes to the sign-in page"
        page.get_by_role("button", name="Bob Brown").click()
        page.wait_for_url(f"{app_url}/profile")
        assert "engineering" in page.content()

        page.goto(f"{app_url}/admin")  # needs MFA: Bob is sent to sign in again with MFA
        page.get_by_role("button", name="Bob Brown").click()
        page.get_by_label("One-time code").fill(SANDBOX_MFA_CODE)
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(f"{app_url}/admin")
        assert page.locator("h1").inner_text() == "Admin"

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{app_url}/signed-out")
        assert "You are signed out." in page.content()
        assert not any(c["name"].endswith("authonomy_session") for c in context.cookies())
        page.goto(f"{app_url}/profile")
        assert page.url.startswith(sb.issuer), "after sign-out the profile needs a new sign-in"
        context.close()
        assert missing == [], "no page, icon or asset of the app or the sandbox is missing"
