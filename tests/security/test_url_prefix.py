"""An app served under a URL prefix (``/shop``: ASGI's ``root_path``, WSGI's
``SCRIPT_NAME``) keeps the kit's routes where the framework routes: its sign-in routes
and its webhook route answer under the prefix, in every adapter."""

from __future__ import annotations

import json
import time
from typing import Any

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import sign

from .apps import Adapter
from .flows import browser

PREFIX = "/shop"


def _delivery(secret: str) -> tuple[dict[str, str], bytes]:
    event_id = "evt_prefixed"
    body = json.dumps(
        {
            "id": event_id,
            "type": "user.logged_out",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"user": {"id": "user_bob"}, "session": {"id": "ses_prefixed"}},
        }
    ).encode()
    headers = sign(secret, event_id, int(time.time()), body)
    return {**headers, "content-type": "application/json"}, body


def test_the_login_route_answers_under_the_prefix(adapter: Adapter, sb: Sandbox) -> None:
    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now) as url, browser(url) as http:
        answer = http.get(f"{PREFIX}/auth/login")
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(sb.issuer)


def test_the_webhook_route_answers_under_the_prefix_whatever_authorization_comes_with_it(
    adapter: Adapter, sb: Sandbox
) -> None:
    seen: list[Any] = []

    def config(url: str) -> Any:
        return sb.config(app_url=url)

    with adapter.serve_under(PREFIX, config, sb.state.clock.now, seen) as url:
        with browser(url) as http:
            headers, body = _delivery(sb.webhook_secret)
            stray = {**headers, "authorization": "Bearer not-a-token"}
            answer = http.post(f"{PREFIX}/webhooks/authonomy", content=body, headers=stray)
        assert answer.status_code < 300, answer.text
        assert [event.id for event in seen] == ["evt_prefixed"]
