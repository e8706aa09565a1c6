"""Logout only from the app's own pages: another site cannot sign a user out with a
form that posts to the logout route (logout CSRF), in any adapter."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore

from .apps import Adapter
from .flows import browser, sign_in, whoami


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "{url}", "sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {},
        {"origin": "{url}99999"},  # the app's origin with a port out of range
    ],
    ids=[
        "other-origin",
        "opaque-origin",
        "cross-site-fetch",
        "sibling-site",
        "no-origin",
        "malformed-port",
    ],
)
def test_cross_origin_logout_is_refused_and_the_session_lives_on(
    adapter: Adapter, sb: Sandbox, headers: dict[str, str]
) -> None:
    store = MemorySessionStore()

    def config(url: str) -> Any:
        return sb.config(app_url=url, session_store=store)

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        cookie = http.cookies["authonomy_session"]
        sent = {name: value.format(url=url) for name, value in headers.items()}
        answer = http.post("/auth/logout", headers=sent)
        assert answer.status_code == 403, answer.text
        assert "set-cookie" not in answer.headers
        assert whoami(http) == "user_bob"
        assert store.load(cookie) is not None
        # From the app's own page it works.
        assert http.post("/auth/logout", headers={"origin": url}).status_code == 303
        assert whoami(http) is None


def test_a_logout_link_ends_nothing_and_says_to_post_from_a_form(
    adapter: Adapter, sb: Sandbox
) -> None:
    # A newcomer's first try is a link to /auth/logout, or typing it in: the answer
    # must say how to sign out, and a GET must never sign anyone out.
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        page = http.get("/auth/logout", headers={"accept": "text/html"})
        assert page.status_code == 405 and page.headers["allow"] == "POST"
        assert page.headers["content-type"].startswith("text/html")
        assert "&lt;form method=&quot;post&quot; action=&quot;/auth/logout&quot;&gt;" in page.text
        api = http.get("/auth/logout", headers={"accept": "*/*", "sec-fetch-mode": "cors"})
        assert api.status_code == 405
        assert 'action="/auth/logout"' in api.json()["error"]["message"]
        assert whoami(http) == "user_bob"
