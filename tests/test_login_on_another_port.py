"""A sign-in started on another port of ``app_url``'s host ends on a page, in every adapter.

Authonomy sends the browser back to ``app_url``: opened at ``127.0.0.1:8001`` while
``app_url`` says ``127.0.0.1:8000``, the sign-in would return to another server (or to
none). The login route answers the browser with a page naming both addresses and
``AUTHONOMY_APP_URL`` instead of sending it away, and logs the same.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .adapters import ADAPTER_NAMES as ADAPTERS
from .adapters import serve_example
from .browsing import PAGE
from .conftest import free_port


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_on_another_port_shows_the_user_an_error_page(
    sb: Sandbox, adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    app_url = f"http://127.0.0.1:{free_port()}"
    with serve_example(adapter, lambda url: sb.config(app_url=app_url)) as url:
        answer = httpx.get(f"{url}/auth/login?next=/", headers=PAGE)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    page = html.unescape(answer.text)
    opened = urlsplit(url).netloc
    assert f"the app is open at {opened}" in page and app_url in page, page
    assert "AUTHONOMY_APP_URL" in page
    assert "location" not in answer.headers, "the browser is not sent to Authonomy"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("another port than app_url" in message for message in warnings), warnings


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_login_on_app_urls_own_port_goes_to_authonomy(sb: Sandbox, adapter: str) -> None:
    with serve_example(adapter, lambda url: sb.config(app_url=url)) as url:
        answer = httpx.get(f"{url}/auth/login?next=/", headers=PAGE)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(sb.issuer)
