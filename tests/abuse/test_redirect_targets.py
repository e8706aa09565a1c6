"""``next`` survives encoding: a login returns to exactly the URL the browser asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from authonomy_integrations._core.login import safe_next
from authonomy_integrations._core.web import ascii_url, redirect
from authonomy_integrations.sandbox import Sandbox, hosted_login
from tests.browsing import PAGE

from .apps import ADAPTERS, kit


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _sign_in(client: Any, login_location: str) -> Any:
    """Follow the app's login redirect through the hosted pages; the callback's answer."""
    start = client.get(login_location, headers=PAGE)
    assert start.status_code == 302, start.status_code
    with httpx.Client() as browser:
        callback = hosted_login(browser, start.headers["location"], user="bob")
    return client.get(callback[callback.index("/auth/callback") :], headers=PAGE)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("/café/日本", "/caf%C3%A9/%E6%97%A5%E6%9C%AC"),
        ("/caf%C3%A9/%E6%97%A5%E6%9C%AC", "/caf%C3%A9/%E6%97%A5%E6%9C%AC"),
        ("/files/a%3Fb", "/files/a%3Fb"),
        ("/files/a%2Fb%23c?q=%26x%3D1&r=caf%C3%A9", "/files/a%2Fb%23c?q=%26x%3D1&r=caf%C3%A9"),
    ],
)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_guarded_url_round_trips_exactly_through_login_and_callback(
    adapter: str, sb: Sandbox, requested: str, expected: str
) -> None:
    with kit(adapter, sb.config(max_retries=0)) as app:
        refused = app.client.get(requested, headers=PAGE)
        assert refused.status_code == 302
        login_location = refused.headers["location"]
        assert login_location == "/auth/login?" + urlencode({"next": expected})
        done = _sign_in(app.client, login_location)
        assert done.status_code == 302
        assert done.headers["location"] == expected
        assert app.client.get(expected, headers=PAGE).status_code == 200


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_callback_to_a_non_ascii_next_answers_an_ascii_redirect_not_500(
    adapter: str, sb: Sandbox
) -> None:
    with kit(adapter, sb.config(max_retries=0)) as app:
        done = _sign_in(app.client, "/auth/login?" + urlencode({"next": "/日本 x"}))
    assert done.status_code == 302
    assert done.headers["location"] == "/%E6%97%A5%E6%9C%AC%20x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/café", "/caf%C3%A9"),
        ("/a%3Fb", "/a%3Fb"),
        ("/\u0085evil", "/"),  # a C1 control, percent-encoded, is still refused
        ("/ok\ud800", "/"),  # a lone surrogate is no path a browser sent
        ("/" + "é" * 400, "/"),  # longer than allowed once encoded
    ],
)
def test_safe_next_returns_ascii_paths_only(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_every_redirect_location_is_ascii() -> None:
    reply = redirect("https://auth.example/ログイン?x=1")
    location = dict(reply.headers)["location"]
    assert location == "https://auth.example/%E3%83%AD%E3%82%B0%E3%82%A4%E3%83%B3?x=1"
    assert ascii_url("/plain?x=%20") == "/plain?x=%20"
