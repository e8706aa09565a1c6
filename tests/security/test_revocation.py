"""Revocation reaches every worker: logout and back-channel logout refuse the session's
tokens for the rest of their lifetime, in this process and in every process sharing Redis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore, RedisSessionStore
from authonomy_integrations.webhooks import WebhookEvent, sign

from ..browsing import bearer
from .apps import ADAPTERS, Adapter
from .flows import browser, sign_in, whoami

WEBHOOK_SECRET = "whsec_cmV2b2NhdGlvbi10ZXN0LXNlY3JldC0wMTIzNDU2"
ROOT = Path(__file__).resolve().parents[2]


def _bearer_user(url: str, token: str) -> tuple[int, Any]:
    with httpx.Client(base_url=url) as api:
        answer = api.get("/whoami", headers=bearer(token))
    return answer.status_code, answer.json() if answer.status_code == 200 else None


def _logout(http: httpx.Client, url: str) -> None:
    answer = http.post("/auth/logout", headers={"origin": url})
    assert answer.status_code == 303, answer.text


def _sid(token: str) -> str:
    sid: str = jwt.decode(token, options={"verify_signature": False})["sid"]
    return sid


def test_logout_refuses_the_sessions_access_token_from_then_on(
    adapter: Adapter, sb: Sandbox
) -> None:
    store = MemorySessionStore()
    serving = adapter.serve(
        lambda url: sb.config(app_url=url, session_store=store), sb.state.clock.now
    )
    with serving as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        record = store.load(http.cookies["authonomy_session"])
        assert record is not None
        token = record.tokens.access_token  # as a front end holding it would send it
        assert _bearer_user(url, token) == (200, {"user": "user_bob", "customer": "acme-corp"})
        _logout(http, url)
        assert _bearer_user(url, token)[0] == 401
        assert whoami(http) is None


def _delivery(event_type: str, sid: str) -> tuple[dict[str, str], bytes]:
    event_id = f"evt_{event_type.replace('.', '_')}_{sid}"
    data = {
        "user": {"id": "user_bob", "customer_id": "acme-corp"},
        "session": {"id": sid},
        "reason": "admin",
    }
    body = json.dumps(
        {"id": event_id, "type": event_type, "timestamp": "2026-01-01T00:00:00Z", "data": data}
    ).encode()
    headers = sign(WEBHOOK_SECRET, event_id, int(time.time()), body)
    return {**headers, "content-type": "application/json"}, body


@pytest.mark.parametrize("event_type", ["user.logged_out", "session.revoked"])
def test_back_channel_logout_ends_the_session_and_refuses_its_tokens(
    adapter: Adapter, sb: Sandbox, event_type: str
) -> None:
    store = MemorySessionStore()
    seen: list[WebhookEvent] = []

    def config(url: str) -> Any:
        return sb.config(app_url=url, session_store=store, webhook_secret=WEBHOOK_SECRET)

    with adapter.serve(config, sb.state.clock.now, seen) as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        record = store.load(http.cookies["authonomy_session"])
        assert record is not None
        token = record.tokens.access_token
        assert whoami(http) == "user_bob" and _bearer_user(url, token)[0] == 200
        # Another event about another session changes nothing.
        headers, body = _delivery(event_type, "ses_someone_else")
        assert httpx.post(f"{url}/webhooks/authonomy", headers=headers, content=body).is_success
        assert whoami(http) == "user_bob" and _bearer_user(url, token)[0] == 200
        headers, body = _delivery(event_type, _sid(token))
        answer = httpx.post(f"{url}/webhooks/authonomy", headers=headers, content=body)
        assert answer.status_code == 200, answer.text
        assert whoami(http) is None
        assert _bearer_user(url, token)[0] == 401
        assert [event.type for event in seen] == [event_type, event_type]  # the app's handler


def test_signing_out_at_authonomy_reaches_the_app_through_its_webhook(
    adapter: Adapter, sb: Sandbox
) -> None:
    store = MemorySessionStore()

    def config(url: str) -> Any:
        return sb.config(app_url=url, session_store=store, webhook_secret=WEBHOOK_SECRET)

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
            hook = client.webhooks.create(
                f"{url}/webhooks/authonomy", ["user.logged_out"], WEBHOOK_SECRET
            )
            try:
                assert sign_in(http, user="bob").status_code == 302
                record = store.load(http.cookies["authonomy_session"])
                assert record is not None
                sid = _sid(record.tokens.access_token)
                client.auth.logout(session_id=sid)  # e.g. an admin, or another device
                sb.wait_for_deliveries(
                    lambda ds: any(d.url.startswith(url) and d.status_code == 200 for d in ds)
                )
            finally:
                client.webhooks.delete(hook["id"])
        assert whoami(http) is None
        assert _bearer_user(url, record.tokens.access_token)[0] == 401


@contextmanager
def _worker(adapter: Adapter, sb: Sandbox, redis_url: str) -> Iterator[str]:
    """An app worker in its own process, sharing sessions through Redis; its URL."""
    config = sb.config()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "AUTHONOMY_ENVIRONMENT": "sandbox",
        "AUTHONOMY_API_KEY": config.api_key,
        "AUTHONOMY_API_BASE_URL": config.resolved_api_base_url,
        "AUTHONOMY_ISSUER": config.resolved_issuer,
        "AUTHONOMY_AUDIENCE": config.audience,
        "AUTHONOMY_CUSTOMER_ID": "acme-corp",
        "AUTHONOMY_SESSION_SECRET": "a-secret-both-workers-share-0123456789",
        "AUTHONOMY_MAX_RETRIES": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.security.worker", adapter.name],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"worker did not start ({process.poll()})"
        yield url
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_logout_in_one_worker_process_is_refused_by_another(
    adapter: Adapter, sb: Sandbox, redis_url: str
) -> None:
    other = next(a for a in ADAPTERS if a is not adapter)  # a mixed fleet, too
    with _worker(adapter, sb, redis_url) as first, _worker(other, sb, redis_url) as second:
        reader = RedisSessionStore(redis_url)
        reader.bind_audience(sb.audience)
        try:
            with browser(first) as http:
                assert sign_in(http, user="bob").status_code == 302
                cookie = http.cookies["authonomy_session"]
                record = reader.load(cookie)
                assert record is not None
                token = record.tokens.access_token
                # The second worker knows the session and has verified (cached) the token.
                assert _bearer_user(second, token)[0] == 200
                with browser(second) as there:
                    there.cookies.set("authonomy_session", cookie)
                    assert whoami(there) == "user_bob"
                _logout(http, first)
            assert _bearer_user(second, token)[0] == 401
            assert _bearer_user(first, token)[0] == 401
            with browser(second) as there:
                there.cookies.set("authonomy_session", cookie)
                assert whoami(there) is None
        finally:
            reader.close()
