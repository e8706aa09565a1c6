"""Every adapter's webhook route answers a delivery alike, to the header: here while the
replay store is out of reach, when the answer must tell Authonomy when to retry.

The whole answer is compared (status, every header the kit or the framework's view
decides, the body), so the routes cannot drift apart again (Django's once dropped
``Retry-After``).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisReplayStore
from authonomy_integrations.webhooks import WebhookEvent, sign

from ..conftest import free_port
from .apps import Adapter

WEBHOOK_SECRET = "whsec_d2ViaG9vay1hbnN3ZXJzLXRlc3Qtc2VjcmV0LTA="
#: Headers of the transport (the server's), not of the answer.
TRANSPORT = {"date", "server", "content-length", "connection"}
#: Headers the test Django app's own middleware (``SecurityMiddleware``,
#: ``XFrameOptionsMiddleware``) adds to every response it serves, whatever the view.
DJANGO_SITE_WIDE = {
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
}
EXPECTED = (
    503,
    {"content-type": "application/json", "retry-after": "1"},
    {
        "success": False,
        "error": {
            "code": "TEMPORARILY_UNAVAILABLE",
            "message": "The replay store is out of reach; retry later",
            "details": {},
        },
    },
)


def _delivery() -> tuple[dict[str, str], bytes]:
    event_id = "evt_answers"
    body = json.dumps(
        {
            "id": event_id,
            "type": "user.logged_out",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"user": {"id": "user_bob"}, "session": {"id": "ses_answers"}},
        }
    ).encode()
    headers = sign(WEBHOOK_SECRET, event_id, int(time.time()), body)
    return {**headers, "content-type": "application/json"}, body


def _answer(adapter: Adapter, response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    ignored = TRANSPORT | (DJANGO_SITE_WIDE if adapter.name.startswith("django") else set())
    headers = {k: v for k, v in response.headers.items() if k not in ignored}
    return response.status_code, headers, response.json()


def test_replay_store_outage_gets_the_same_whole_answer_from_every_adapter(
    adapter: Adapter, sb: Sandbox
) -> None:
    # Nothing listens on that port: every replay-store command fails at once.
    store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
    seen: list[WebhookEvent] = []

    def config(url: str) -> Any:
        return sb.config(app_url=url, webhook_secret=WEBHOOK_SECRET, replay_store=store)

    try:
        with adapter.serve(config, sb.state.clock.now, seen) as url:
            headers, body = _delivery()
            response = httpx.post(f"{url}/webhooks/authonomy", headers=headers, content=body)
    finally:
        store.close()
    assert _answer(adapter, response) == EXPECTED
    assert seen == []  # nothing acknowledged, nothing handled
