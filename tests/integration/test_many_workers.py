"""The FastAPI example under ``uvicorn --workers 4`` and the Flask example under
``gunicorn -w 4``, all eight workers sharing one Redis, under many users at once.

Every request opens a new connection, so one user's requests land on any worker. What
must hold: each session is refreshed exactly once when its token comes due, whichever
workers see it due at the same moment; no session is lost; every webhook is handled
exactly once though copies of it reach several workers together.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.sandbox._models import Delivery
from authonomy_integrations.stores import RedisSessionStore
from benchmarks import _fleet as fleet

#: Tokens live TOKEN_TTL seconds and are due for refresh MARGIN seconds before they
#: expire, so each session comes due DUE seconds after sign-in, and again DUE seconds
#: after its refresh: the test's window for "exactly one refresh per session".
TOKEN_TTL = 30
MARGIN = 22
DUE = TOKEN_TTL - MARGIN
SESSIONS_PER_APP = 6


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(token_ttl=TOKEN_TTL) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def apps(
    sb: Sandbox, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[fleet.Served]]:
    logdir = Path(tmp_path_factory.mktemp("workers"))
    served: list[fleet.Served] = []

    def start(kind: str) -> None:
        served.append(
            fleet.serve(
                kind, sb, workers=4, redis_url=redis_url, refresh_margin=MARGIN, logdir=logdir
            )
        )

    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(start, ["fastapi", "flask"]))
        yield served
    finally:
        for app in served:
            app.stop()


def test_each_session_is_refreshed_once_across_all_workers(
    sb: Sandbox, apps: list[fleet.Served], redis_url: str
) -> None:
    store = RedisSessionStore(redis_url)
    store.bind_audience(sb.audience)  # the apps' key prefix
    refreshes_before = sb.request_count("POST", "/v1/auth/refresh")
    started = time.monotonic()
    sessions = fleet.sign_in_many([app.url for app in apps], SESSIONS_PER_APP)
    signed_in = time.monotonic()
    assert signed_in - started < DUE - 2, "signing in took too long for this test's window"
    first_expiry = {}
    for session in sessions:
        record = store.load(session.cookie)
        assert record is not None
        first_expiry[session.cookie] = record.tokens.expires_at

    def all_refreshed() -> bool:
        for session in sessions:
            record = store.load(session.cookie)
            if record is None or record.tokens.expires_at <= first_expiry[session.cookie]:
                return False
        return True

    checks = fleet.Throttled(all_refreshed, every=0.25)
    # Four requests of each session in flight at once: several workers find the same
    # session due in the same moment.
    load = fleet.drive(sessions, seconds=DUE * 2, until=checks, parallel=4)
    finished = time.monotonic()
    store.close()

    assert checks.last, "not every session was refreshed while the load ran"
    # The second time a session comes due is at least DUE seconds after the first.
    assert finished - started < 2 * DUE, "the load ran into the sessions' next refresh"
    assert sb.request_count("POST", "/v1/auth/refresh") - refreshes_before == len(sessions)
    assert load.requests > 10 * len(sessions)
    assert load.statuses == {200: load.requests}, "a session was lost or a request failed"
    assert load.wrong_user == 0
    assert not load.errors


def test_each_webhook_is_handled_once_across_all_workers(apps: list[fleet.Served]) -> None:
    for app in apps:
        event_ids = fleet.new_event_ids(30)
        # Three copies of each event reach the app's workers at once, and copies that
        # are not acknowledged (409 while another worker handles it) are retried.
        result = fleet.deliver([app.url], event_ids, copies=3)
        assert result.acknowledged == set(event_ids), "a delivery was never acknowledged"
        assert result.handled == dict.fromkeys(event_ids, 1), "an event ran twice or never"


def test_sign_in_webhooks_from_the_sandbox_are_each_acknowledged_once(
    sb: Sandbox, apps: list[fleet.Served]
) -> None:
    seen_before = len(sb.deliveries)
    fleet.sign_in_many([app.url for app in apps], 2)

    def settled(attempts: list[Delivery]) -> bool:
        new = attempts[seen_before:]
        logins = {a.event_id for a in new if a.event_type == "user.authenticated"}
        unacknowledged = {a.event_id for a in new} - {a.event_id for a in new if a.ok}
        return len(logins) >= 2 * len(apps) and not unacknowledged

    sb.wait_for_deliveries(settled, timeout=30)
    # Both apps subscribe to every event: each (event, app) pair is acknowledged once.
    acknowledged: dict[tuple[str, str], int] = {}
    for attempt in sb.deliveries[seen_before:]:
        key = (attempt.event_id, attempt.url)
        acknowledged[key] = acknowledged.get(key, 0) + attempt.ok
    assert set(acknowledged.values()) == {1}
