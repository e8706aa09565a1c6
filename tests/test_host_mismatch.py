"""A sign-in started on another host than ``app_url``'s is diagnosed, in every adapter.

The login cookie belongs to the host the sign-in started on (``localhost``); Authonomy
sends the browser back to ``app_url`` (``127.0.0.1``), where that cookie is not sent.
The login route logs the mismatch as it happens, and the callback answers with a page
and a log line naming ``app_url`` and the host seen, not a bare state error.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.testing import login_as
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from tests.browsing import PAGE
from tests.django.helpers import close as close_django
from tests.django.helpers import django_client, example_config

APP_URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _sign_in_at_sandbox(location: str) -> str:
    with httpx.Client() as browser:
        return hosted_login(browser, location, user="bob")


def _assert_diagnosed(status: int, page: str, caplog: pytest.LogCaptureFixture) -> None:
    assert status == 400
    page = html.unescape(page)
    assert f"Sign-ins must start at {APP_URL}" in page
    assert "did not bring back the cookie" in page
    messages = [r.getMessage() for r in caplog.records if r.name == "authonomy_integrations"]
    started = [m for m in messages if m.startswith("login started on host 'localhost:8000'")]
    assert started and APP_URL in started[0]
    callback = [m for m in messages if m.startswith("login callback on host '127.0.0.1:8000'")]
    assert callback and APP_URL in callback[0] and "AUTHONOMY_APP_URL" in callback[0]


def test_starlette_callback_names_app_url_when_the_sign_in_began_elsewhere(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "authonomy_integrations")
    app = create_fastapi_app(sb.config(app_url=APP_URL))
    with TestClient(app, base_url="http://localhost:8000", headers=PAGE) as client:
        start = client.get("/auth/login?next=/profile", follow_redirects=False)
        callback = _sign_in_at_sandbox(start.headers["location"])
        assert callback.startswith(f"{APP_URL}/auth/callback?")
        done = client.get(callback, follow_redirects=False)  # the cookie stays on localhost
    _assert_diagnosed(done.status_code, done.text, caplog)


def test_flask_callback_names_app_url_when_the_sign_in_began_elsewhere(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "authonomy_integrations")
    app = create_flask_app(sb.config(app_url=APP_URL))
    client = app.test_client()
    start = client.get("/auth/login?next=/profile", base_url="http://localhost:8000", headers=PAGE)
    callback = urlsplit(_sign_in_at_sandbox(start.headers["location"]))
    done = client.get(f"{callback.path}?{callback.query}", base_url=APP_URL)
    _assert_diagnosed(done.status_code, done.get_data(as_text=True), caplog)
    app.extensions["authonomy"].close()


def test_django_callback_names_app_url_when_the_sign_in_began_elsewhere(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "authonomy_integrations")
    client = django_client(example_config(sb, APP_URL))
    start = client.get("/auth/login?next=/profile", headers=PAGE, HTTP_HOST="localhost:8000")
    callback = urlsplit(_sign_in_at_sandbox(start.headers["location"]))
    # Django's test client keeps one cookie jar for every host; a browser keeps the login
    # cookie with localhost, and sends none to 127.0.0.1.
    client.cookies.clear()
    done = client.get(f"{callback.path}?{callback.query}", headers=PAGE, HTTP_HOST="127.0.0.1:8000")
    _assert_diagnosed(done.status_code, done.content.decode(), caplog)
    close_django(client.handler)


def test_callback_reached_through_another_host_names_it(sb: Sandbox) -> None:
    app = create_fastapi_app(sb.config(app_url=APP_URL))
    with TestClient(app, base_url="http://app.internal:9000") as client:
        done = client.get("/auth/callback?code=c&state=s&iss=x")
    assert done.status_code == 400
    page = html.unescape(done.text)
    assert f"The app's address is {APP_URL}, but this page was reached at app.internal:9000" in page


def test_sign_in_on_app_urls_host_is_not_reported(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "authonomy_integrations")
    app = create_fastapi_app(sb.config(app_url=APP_URL))
    with TestClient(app, base_url=APP_URL) as client:
        start = client.get("/auth/login?next=/profile", follow_redirects=False)
        done = client.get(_sign_in_at_sandbox(start.headers["location"]), follow_redirects=False)
    assert done.headers["location"] == "/profile"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_test_clients_on_their_own_host_are_not_warned_about(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # login_as follows the callback by its path, so the host of a test client is fine.
    caplog.set_level(logging.INFO, "authonomy_integrations")
    app = create_fastapi_app(sb.config(app_url=APP_URL))
    assert login_as(TestClient(app), "bob", next_path="/profile") == "/profile"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_django_test_client_on_its_own_host_is_not_warned_about(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # Django's plain test Client, on its own host ("testserver"), signs in with login_as.
    caplog.set_level(logging.INFO, "authonomy_integrations")
    client = django_client(example_config(sb, APP_URL))
    assert login_as(client, "bob", next_path="/profile") == "/profile"
    assert "engineering" in client.get("/profile").content.decode()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    close_django(client.handler)
