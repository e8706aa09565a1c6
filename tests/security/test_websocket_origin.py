"""Cross-site WebSocket hijacking, attempted through every adapter that serves WebSockets.

A browser sends the session cookie on a WebSocket handshake from a sibling subdomain
(SameSite=Lax does not stop it) and a socket is not subject to CORS, so a hostile page
could open one as the signed-in user and read what the app sends. The session cookie
signs a handshake's caller in only when its ``Origin`` is the app's own for its ``Host``;
a bearer token (which no page can set on a WebSocket) is judged as on any request.

The app is served on 127.0.0.1 and each handshake names its host, as a browser would
after DNS (see :mod:`.test_origins`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox

from ..adapters import ADAPTERS, Adapter
from ..browsing import bearer, mint
from ..websocket_apps import NO_WEBSOCKETS, WEBSOCKET_APPS
from .test_origins import ACME, GLOBEX, ORIGINS, HostBrowser, sign_in_on

APP = "app.myapp.example"
SERVING = [entry for entry in ADAPTERS if entry.name not in NO_WEBSOCKETS]
Headers = list[tuple[str, str]]


class Served:
    """The adapter's WebSocket app, a browser that signed in on it, and its events."""

    def __init__(self, url: str, browser: HostBrowser, events: list[AuthEvent]) -> None:
        self.url, self.browser, self.events = url, browser, events

    def cookie(self, host: str) -> Headers:
        jar = self.browser.jars[host]
        return [("Cookie", "; ".join(f"{name}={value}" for name, value in jar.items()))]

    def talk(self, host: str, headers: Headers) -> str:
        """What ``/ws/me`` on ``host`` says; raises when the socket is refused."""
        port = urlsplit(self.url).port
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        uri = f"ws://{host}/ws/me"
        with connect(uri, sock=sock, additional_headers=headers, open_timeout=10) as ws:
            said = ws.recv(timeout=10)
        assert isinstance(said, str)
        return said

    def refused(self, host: str, headers: Headers) -> None:
        """The handshake gets nobody: the guard refuses it (403, or close 1008)."""
        with pytest.raises((InvalidStatus, ConnectionClosed)) as refused:
            self.talk(host, headers)
        error: Any = refused.value
        if isinstance(error, InvalidStatus):
            assert error.response.status_code == 403
        else:
            assert error.rcvd is not None and error.rcvd.code == 1008


@contextmanager
def signed_in(
    adapter: Adapter, sb: Sandbox, app_url: str | list[str], host: str
) -> Iterator[Served]:
    """The adapter's WebSocket app on ``app_url``, with bob signed in on ``host``."""
    events: list[AuthEvent] = []
    make = WEBSOCKET_APPS[adapter.name]
    with adapter.served(lambda _: make(sb.config(app_url=app_url, on_event=events.append))) as url:
        browser = HostBrowser(url)
        with browser.http:
            assert sign_in_on(browser, host).status_code == 302
            yield Served(url, browser, events)


def origin_refusals(events: list[AuthEvent]) -> list[AuthEvent]:
    return [e for e in events if e.name == "token.refused" and e.reason == "wrong_origin"]


def test_every_adapter_is_tried_or_cannot_serve_websockets() -> None:
    names = {entry.name for entry in ADAPTERS}
    assert names == set(WEBSOCKET_APPS) | NO_WEBSOCKETS


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.myapp.example",  # a sibling subdomain: Lax cookies go there too
        "https://app.myapp.example:8443",  # another port
        "http://app.myapp.example",  # another scheme
        "null",  # a sandboxed frame or a file
        "https://app.myapp.example:99999",  # no origin at all
        "https://[app.myapp.example",  # nor this
    ],
)
@pytest.mark.parametrize("adapter", SERVING, ids=str)
def test_a_cookie_handshake_from_a_foreign_origin_gets_nobody(
    adapter: Adapter, sb: Sandbox, origin: str
) -> None:
    with signed_in(adapter, sb, f"https://{APP}", APP) as app:
        own = [("Origin", f"https://{APP}")]
        assert app.talk(APP, own + app.cookie(APP)) == "user_bob"
        app.refused(APP, [("Origin", origin), *app.cookie(APP)])
        (event,) = origin_refusals(app.events)
        assert event.fields["credential"] == "session"
        assert event.fields["origin"] == repr(origin)


@pytest.mark.parametrize("adapter", SERVING, ids=str)
def test_a_cookie_handshake_without_an_origin_gets_nobody(adapter: Adapter, sb: Sandbox) -> None:
    # Several Origin headers: see tests/core/test_callers.py (uvicorn refuses them itself).
    with signed_in(adapter, sb, f"https://{APP}", APP) as app:
        # Every browser sends an Origin on a handshake; a client without one carries no
        # browser's cookie legitimately: it authenticates with a bearer token.
        app.refused(APP, app.cookie(APP))
        missing = [e for e in app.events if e.reason == "missing_origin"]
        assert len(missing) == 1 and missing[0].name == "token.refused"


@pytest.mark.parametrize("adapter", SERVING, ids=str)
def test_a_bearer_handshake_is_judged_by_its_token_not_its_origin(
    adapter: Adapter, sb: Sandbox
) -> None:
    evil = [("Origin", "https://evil.myapp.example")]
    with signed_in(adapter, sb, f"https://{APP}", APP) as app:
        app.refused(APP, evil + app.cookie(APP))
        token = list(bearer(mint(sb)).items())
        assert app.talk(APP, evil + token) == "user_alice"
        assert app.talk(APP, token) == "user_alice"


@pytest.mark.parametrize("adapter", SERVING, ids=str)
def test_a_tenant_handshake_must_come_from_its_own_tenant(adapter: Adapter, sb: Sandbox) -> None:
    with signed_in(adapter, sb, ORIGINS, ACME) as app:
        assert app.talk(ACME, [("Origin", f"https://{ACME}"), *app.cookie(ACME)]) == "user_bob"
        for origin in (f"https://{GLOBEX}", "https://myapp.example"):
            app.refused(ACME, [("Origin", origin), *app.cookie(ACME)])
        assert len(origin_refusals(app.events)) == 2
