"""A revocation lasts as long as the tokens it revokes, not only as long as a session.

Sessions here live ten minutes (``session_max_age=600``) while the sandbox's access
tokens live an hour: a token of a signed-out session stays refused until it expires, in
this process's memory and as the lifetime of the Redis key every worker reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore, RedisSessionStore
from authonomy_integrations.webhooks import sign

from ..browsing import bearer
from ..redis_servers import cli
from .apps import Adapter
from .flows import browser, sign_in

WEBHOOK_SECRET = "whsec_cmV2b2NhdGlvbi1saWZldGltZS1zZWNyZXQtMDE="
SESSION_MAX_AGE = 600


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A sandbox of the test's own: the tests move its clock (the apps read it too)."""
    with Sandbox(token_ttl=3600) as sandbox:
        yield sandbox


def _status(url: str, token: str) -> int:
    with httpx.Client(base_url=url) as api:
        return api.get("/whoami", headers=bearer(token)).status_code


def _logout(http: httpx.Client, url: str) -> None:
    assert http.post("/auth/logout", headers={"origin": url}).status_code == 303


def _back_channel(sb: Sandbox, url: str, token: str) -> None:
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]
    event_id = f"evt_lifetime_{sid}"
    body = json.dumps(
        {
            "id": event_id,
            "type": "session.revoked",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"user": {"id": "user_bob"}, "session": {"id": sid}},
        }
    ).encode()
    # Signed at the app's time, which is the sandbox's clock.
    headers = sign(WEBHOOK_SECRET, event_id, int(sb.state.clock.now()), body)
    answer = httpx.post(
        f"{url}/webhooks/authonomy",
        headers={**headers, "content-type": "application/json"},
        content=body,
    )
    assert answer.status_code == 200, answer.text


def _signed_in_token(http: httpx.Client, store: Any) -> str:
    assert sign_in(http, user="bob").status_code == 302
    record = store.load(http.cookies["authonomy_session"])
    assert record is not None
    token: str = record.tokens.access_token
    return token


@pytest.mark.parametrize("how", ["logout", "back-channel"])
def test_a_revoked_token_stays_refused_after_session_max_age(
    adapter: Adapter, sb: Sandbox, how: str
) -> None:
    store = MemorySessionStore()

    def config(url: str) -> Any:
        return sb.config(
            app_url=url,
            session_store=store,
            session_max_age=SESSION_MAX_AGE,
            webhook_secret=WEBHOOK_SECRET,
        )

    with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
        token = _signed_in_token(http, store)
        assert _status(url, token) == 200
        if how == "logout":
            _logout(http, url)
        else:
            _back_channel(sb, url, token)
        assert _status(url, token) == 401
        sb.advance_clock(SESSION_MAX_AGE + 60)  # the session would be over; the token is not
        assert _status(url, token) == 401
        sb.advance_clock(3600 - SESSION_MAX_AGE - 60 - 120)  # two minutes before its exp
        assert _status(url, token) == 401


def test_the_shared_revocation_lives_as_long_as_the_token_in_redis(
    adapter: Adapter, sb: Sandbox, redis_url: str
) -> None:
    store = RedisSessionStore(redis_url)

    def config(url: str) -> Any:
        return sb.config(app_url=url, session_store=store, session_max_age=SESSION_MAX_AGE)

    try:
        with adapter.serve(config, sb.state.clock.now) as url, browser(url) as http:
            token = _signed_in_token(http, store)
            _logout(http, url)
            assert _status(url, token) == 401
            sid = jwt.decode(token, options={"verify_signature": False})["sid"]
            port = urlsplit(redis_url).port or 6379
            ttl = int(cli(port, "ttl", f"{store.prefix}revoked-sid:{sid}"))
    finally:
        store.close()
    # The token's hour (and the leeway), never just the session's ten minutes.
    assert ttl > 3600 - 60
