"""A person's path through the example apps, in a real (headless) Chromium.

Real browser behaviour is what these pin: cookies set on redirects, SameSite=Lax on the
return from the sign-in pages, forms without JavaScript, and the Origin header a browser
sends with the sign-out form, which the logout route's CSRF check must accept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from authonomy_integrations.sandbox import SANDBOX_MFA_CODE, Sandbox
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from tests.django.helpers import example_config as django_config
from tests.django.helpers import serve as serve_django
from tests.flask.helpers import bound_socket
from tests.flask.helpers import serve as serve_wsgi
from tests.starlette.helpers import serve as serve_asgi

from .chromium import launch_chromium


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


@contextmanager
def fastapi_example(sb: Sandbox) -> Iterator[str]:
    with serve_asgi(lambda url: create_fastapi_app(sb.config(app_url=url))) as url:
        yield url


@contextmanager
def flask_example(sb: Sandbox) -> Iterator[str]:
    sock = bound_socket()
    host, port = sock.getsockname()
    app = create_flask_app(sb.config(app_url=f"http://{host}:{port}"))
    with serve_wsgi(app, sock) as server:
        yield server.url


@contextmanager
def django_example(sb: Sandbox, *, asgi: bool) -> Iterator[str]:
    with serve_django(lambda url: django_config(sb, url), asgi=asgi) as url:
        yield url


EXAMPLES: dict[str, Callable[[Sandbox], AbstractContextManager[str]]] = {
    "fastapi": fastapi_example,
    "flask": flask_example,
    "django-wsgi": lambda sb: django_example(sb, asgi=False),
    "django-asgi": lambda sb: django_example(sb, asgi=True),
}


@pytest.mark.parametrize("example", EXAMPLES)
def test_sign_in_step_up_to_mfa_and_sign_out(sb: Sandbox, chromium: Any, example: str) -> None:
    with EXAMPLES[example](sb) as app_url:
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
