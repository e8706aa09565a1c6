"""One event is one log line: text from a request never brings a line break (or another
control character) into the log or into an event, whatever route it comes through.

The attack: a callback with the attacker's own ``state`` and
``error=access_denied%0Alogin.completed%20user=user_admin`` would write a forged
``login.completed`` line at INFO. It needs no account.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.webhooks import sign

from .apps import Adapter
from .flows import browser, start_login

WEBHOOK_SECRET = "whsec_bG9nLWxpbmVzLXRlc3Qtc2VjcmV0LTAxMjM0NTY3"
#: What no log line or event field may hold: C0/C1 controls, DEL, line separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FORGED = "\nlogin.completed user=user_admin\r\x1b[2J\u2028"


def _text_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list | frozenset | set):
        return [text for item in value for text in _text_of(item)]
    return []


def _event_texts(event: AuthEvent) -> list[str]:
    texts = [event.name, event.reason or "", event.user_id or "", event.customer_id or ""]
    for value in event.fields.values():
        texts.extend(_text_of(value))
    return texts


def _forged_callback(http: httpx.Client, sb: Sandbox) -> None:
    """The attacker's own sign-in, cancelled, its callback's ``error`` rewritten."""
    with httpx.Client() as elsewhere:
        cancelled = hosted_login(elsewhere, start_login(http), cancel=True)
    params = dict(parse_qsl(urlsplit(cancelled).query))
    params["error"] = "access_denied" + FORGED
    params["error_description"] = "cancelled" + FORGED
    http.get("/auth/callback?" + urlencode(params))


def _webhook(url: str) -> None:
    """A signed delivery whose id and type carry line breaks."""
    event_id = "evt_lines"
    body = json.dumps(
        {
            "id": event_id,
            "type": "customer.updated" + FORGED,
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"customer": {"id": "acme-corp" + FORGED}},
        }
    ).encode()
    headers = sign(WEBHOOK_SECRET, event_id, int(time.time()), body)
    httpx.post(
        f"{url}/webhooks/authonomy",
        headers={**headers, "content-type": "application/json"},
        content=body,
    )


def test_request_text_never_breaks_a_log_line_or_an_event_field(
    adapter: Adapter, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "authonomy_integrations")
    hooked: list[AuthEvent] = []

    def config(url: str) -> Any:
        return sb.config(
            app_url=url,
            on_event=hooked.append,
            webhook_secret=WEBHOOK_SECRET,
            login_rate_limit=2,
        )

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        _forged_callback(http, sb)
        http.get("/auth/login", params={"customer": "globex" + FORGED, "next": "/a" + FORGED})
        http.get("/auth/login", params={"next": "/a" + FORGED})  # rate limited
        http.get("/auth/callback", params={"state": "made-up" + FORGED, "code": "c" + FORGED})
        _webhook(url)
    names = {event.name for event in hooked}
    # Each way in was reported, so each was checked.
    assert {"login.failed", "callback.refused", "webhook.verified"} <= names, names
    assert "login.completed" not in names
    for event in hooked:
        assert not [t for t in _event_texts(event) if CONTROL.search(t)], event
    ours = [r for r in caplog.records if r.name.startswith("authonomy_integrations")]
    for record in ours:
        line = record.getMessage()
        assert not CONTROL.search(line), line
    assert not any(r.getMessage().startswith("login.completed") for r in ours)
    # Escaped, not dropped: the line still shows what was sent.
    details = [e.fields.get("detail", "") for e in hooked if e.name == "login.failed"]
    assert any("access_denied\\x0alogin.completed" in detail for detail in details), details
    assert any("x0alogin.completed" in r.getMessage() for r in ours)
