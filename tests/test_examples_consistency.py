"""The example apps say the same things, truthfully, in the same way.

Same words ("Sign in" / "Sign out"), the same confirmation after signing out, no 404 for
the icon a browser asks for, banners that describe what each sandbox user experiences,
and log lines that say whether the app or the embedded sandbox wrote them.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient as LitestarTestClient
from starlette.testclient import TestClient

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from examples.litestar_app import create_app as create_litestar_app
from examples.quart_app.app import create_app as create_quart_app
from examples.shared import banner, log_config
from tests.django.helpers import django_client, example_config

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


class _Flask:
    """Flask's test client with the calls these tests make, shaped like TestClient's."""

    def __init__(self, sb: Sandbox) -> None:
        self.app = create_flask_app(sb.config(app_url="http://localhost"))
        self.client = self.app.test_client()

    def get(self, path: str) -> tuple[int, str]:
        response = self.client.get(path, headers=HTML)
        return response.status_code, response.get_data(as_text=True)

    def sign_out(self) -> str:
        response = self.client.post("/auth/logout", headers={"Origin": "http://localhost"})
        return str(response.headers["location"])


class _FastAPI:
    def __init__(self, sb: Sandbox) -> None:
        self.client = TestClient(create_fastapi_app(sb.config(app_url="http://localhost")))

    def get(self, path: str) -> tuple[int, str]:
        response = self.client.get(path, headers=HTML, follow_redirects=False)
        return response.status_code, response.text

    def sign_out(self) -> str:
        response = self.client.post(
            "/auth/logout", headers={"Origin": "http://localhost"}, follow_redirects=False
        )
        return str(response.headers["location"])


class _Django:
    """Django's plain test ``Client``; its middleware is made from the example's settings."""

    def __init__(self, sb: Sandbox) -> None:
        self.client = django_client(example_config(sb))

    def get(self, path: str) -> tuple[int, str]:
        response = self.client.get(path, headers=HTML)
        return response.status_code, response.content.decode()

    def sign_out(self) -> str:
        response = self.client.post("/auth/logout", headers={"Origin": "http://localhost"})
        return str(response.headers["location"])


class _Quart:
    """Quart's async test client, each call on an event loop of its own."""

    def __init__(self, sb: Sandbox) -> None:
        self.app = create_quart_app(sb.config(app_url="http://localhost"))
        self.client = self.app.test_client()

    def get(self, path: str) -> tuple[int, str]:
        async def get() -> tuple[int, str]:
            response = await self.client.get(path, headers=HTML)
            return response.status_code, await response.get_data(as_text=True)

        return asyncio.run(get())

    def sign_out(self) -> str:
        post = self.client.post("/auth/logout", headers={"Origin": "http://localhost"})
        return str(asyncio.run(post).headers["location"])


class _Litestar(_FastAPI):
    """Litestar's ``TestClient`` is an ``httpx.Client`` too: the same calls."""

    def __init__(self, sb: Sandbox) -> None:
        app = create_litestar_app(sb.config(app_url="http://localhost"))
        with warnings.catch_warnings():  # Litestar warns of a host without a dot
            warnings.filterwarnings("ignore", "The base_url", UserWarning)
            self.client = LitestarTestClient(app, base_url="http://localhost")


EXAMPLES: dict[str, Callable[[Sandbox], Any]] = {
    "fastapi": _FastAPI,
    "flask": _Flask,
    "django": _Django,
    "quart": _Quart,
    "litestar": _Litestar,
}


@pytest.mark.parametrize("example", EXAMPLES)
def test_same_words_and_a_confirmation_after_sign_out(sb: Sandbox, example: str) -> None:
    demo = EXAMPLES[example](sb)
    status, home = demo.get("/")
    assert status == 200 and ">Sign in</a>" in home
    login_as(demo.client, "alice")
    for path in ("/", "/profile", "/admin", "/webhooks"):
        status, page = demo.get(path)
        assert status == 200, path
        assert '<button type="submit">Sign out</button>' in page, path
        assert "Log in" not in page and "Log out" not in page, path
        assert 'rel="icon"' in page, path
    assert demo.sign_out() == "/signed-out"
    status, page = demo.get("/signed-out")
    assert status == 200 and "You are signed out." in page and ">Sign in</a>" in page


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_404_for_the_icon(sb: Sandbox, example: str) -> None:
    status, _ = EXAMPLES[example](sb).get("/favicon.ico")
    assert status == 204


def test_banner_describes_each_users_mfa_as_the_sandbox_does(sb: Sandbox) -> None:
    text = banner("http://127.0.0.1:8000", sb)
    lines = {line.split(":")[0].strip(): line for line in text.splitlines()}
    users = sb.users
    assert users["alice"].mfa_enrolled and "MFA enrolled" in lines["alice"]
    assert not users["bob"].mfa_enrolled and "no MFA at sign-in" in lines["bob"]
    assert "sign in again with the code" in lines["bob"], "Bob steps up; he is not refused"
    assert "refuse" not in text


def test_app_and_sandbox_log_lines_are_told_apart(capsys: pytest.CaptureFixture[str]) -> None:
    names = list(log_config()["loggers"])
    saved = {name: _logger_state(logging.getLogger(name)) for name in names}
    try:
        logging.config.dictConfig(log_config())
        logging.getLogger("authonomy_integrations").warning("from the app's kit")
        logging.getLogger("authonomy_integrations.sandbox").warning("from the sandbox")
        logging.getLogger("uvicorn.access").info("GET / 200")
        logging.getLogger("django.request").warning("Not Found: /missing")
    finally:
        for name, state in saved.items():
            _restore(logging.getLogger(name), state)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[0] for line in lines] == ["[app]", "[sandbox]", "[app]", "[app]"]


def _logger_state(logger: logging.Logger) -> tuple[list[logging.Handler], int, bool]:
    return list(logger.handlers), logger.level, logger.propagate


def _restore(logger: logging.Logger, state: tuple[list[logging.Handler], int, bool]) -> None:
    logger.handlers[:], logger.level, logger.propagate = state
