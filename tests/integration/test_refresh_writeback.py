"""A session whose refresh Redis failed to save is not lost.

Authonomy rotates a session's refresh token on refresh; if Redis fails before the new
one is saved, the stored record holds a spent token, and presenting it more than 10 s
later makes Authonomy revoke the session. Here Redis fails at exactly that moment (right
after Authonomy's answer reaches the worker), by a crash (Redis restarts from its
append-only file) or a freeze (no persistence needed), and time is moved past the grace
window through the sandbox's clock. Two workers share the Redis, each its own runtime
(sync or async) with its own connections, as two processes of one app would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.refresh_claims import WRITE_BACK_PATIENCE
from authonomy_integrations._errors import StoreUnavailableError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore

from ..redis_servers import RedisServer, wait_until
from .helpers import sign_in

#: Answer of a request that met an unavailable store (the adapters' 503).
UNAVAILABLE = "503"
#: Seconds a Redis command may take, and a refresh lock may live, in these tests.
TIMEOUT = 1.0
LOCK_TIMEOUT = 3.0


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@dataclass
class Outage:
    """How Redis fails and comes back."""

    server: RedisServer
    fail: Callable[[], None]
    recover: Callable[[], None]


@pytest.fixture(params=["crash", "freeze"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    """A crash and restart with ``appendonly yes``, or a freeze of a Redis without
    persistence (its data stays in memory)."""
    if request.param == "crash":
        server = RedisServer(tmp_path / "redis", appendonly=True).start()
        yield Outage(server, server.stop, server.start)
    else:
        server = RedisServer(tmp_path / "redis").start()
        yield Outage(server, server.pause, server.resume)
    server.stop()


class HookedStore(RedisSessionStore):
    """A Redis session store that calls ``before_claim()`` before claiming a refresh."""

    def __init__(self, url: str, before_claim: Callable[[], None], **options: Any) -> None:
        super().__init__(url, **options)
        self.before_claim = before_claim

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        self.before_claim()
        super().claim_refresh(session_id, claim, ttl)

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        self.before_claim()
        await super().aclaim_refresh(session_id, claim, ttl)


class Worker:
    """One app process: its own runtime and Redis connections; sync or async."""

    def __init__(
        self,
        config: AuthonomyConfig,
        sb: Sandbox,
        kind: str,
        on_refresh: Any,
        before_claim: Callable[[], None],
    ) -> None:
        self.store = HookedStore(
            config.session_store.url,  # type: ignore[union-attr]
            before_claim,
            timeout=TIMEOUT,
            lock_timeout=LOCK_TIMEOUT,
        )
        config = config.replace(session_store=self.store)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runtime: AuthonomySync | AuthonomyAsync
        if kind == "sync":
            http = httpx.Client(event_hooks={"response": [on_refresh]})
            self.runtime = AuthonomySync(config, http_client=http, clock=sb.state.clock.now)
        else:

            async def hook(response: httpx.Response) -> None:
                on_refresh(response)

            self.loop = asyncio.new_event_loop()
            ahttp = httpx.AsyncClient(event_hooks={"response": [hook]})
            self.runtime = AuthonomyAsync(config, http_client=ahttp, clock=sb.state.clock.now)

    def user(self, cookie: str) -> str | None:
        """The id of the session's user, ``None`` when signed out, or ``UNAVAILABLE``."""
        try:
            if isinstance(self.runtime, AuthonomySync):
                state = self.runtime.authenticate_session(cookie)
            else:
                assert self.loop is not None
                state = self.loop.run_until_complete(self.runtime.authenticate_session(cookie))
        except StoreUnavailableError:
            return UNAVAILABLE
        return state.user.id if state.user is not None else None

    def logout(self, cookie: str) -> None:
        if isinstance(self.runtime, AuthonomySync):
            self.runtime.logout(cookie)
        else:
            assert self.loop is not None
            self.loop.run_until_complete(self.runtime.logout(cookie))

    def die(self) -> None:
        """Exit as a crashed process would: unsaved records are lost with it."""
        claims = self.runtime.engine.sessions.claims
        claims._unsaved.clear()
        if isinstance(self.runtime, AuthonomyAsync):
            for task in list(self.runtime._tasks):
                task.cancel()  # it never runs again: this loop is not run until close
        else:
            # The retrying thread ends after its attempt in flight; none may outlive it.
            wait_until(lambda: not claims._writing_back, "the write-back thread to end")

    def close(self) -> None:
        if isinstance(self.runtime, AuthonomySync):
            self.runtime.close()
            self.store.close()
        else:
            assert self.loop is not None
            self.loop.run_until_complete(self.runtime.aclose())
            self.loop.run_until_complete(self.store.aclose())
            self.loop.close()


@dataclass
class Fleet:
    first: Worker
    second: Worker
    cookie: str
    spent_token: str
    arm: Callable[[], None]
    arm_claim: Callable[[], None]


@pytest.fixture(params=["sync", "async"])
def fleet(request: pytest.FixtureRequest, sb: Sandbox, outage: Outage) -> Iterator[Fleet]:
    """Two workers of one app on one Redis, a signed-in session due for refresh, and
    ``arm()``: Redis fails right after Authonomy's next refresh answer arrives."""
    armed: list[bool] = []
    claim_armed: list[bool] = []

    def on_refresh(response: httpx.Response) -> None:
        if armed and response.request.url.path.endswith("/auth/refresh"):
            armed.clear()
            outage.fail()

    def before_claim() -> None:
        if claim_armed:
            claim_armed.clear()
            outage.fail()

    config = sb.config(
        refresh_margin=60, session_store=RedisSessionStore(outage.server.url, timeout=TIMEOUT)
    )
    login = AuthonomySync(config)
    cookie = sign_in(login).session_cookie
    record = login.store.load(cookie)
    assert record is not None
    login.close()
    login.store.close()  # type: ignore[attr-defined]
    workers = [Worker(config, sb, request.param, on_refresh, before_claim) for _ in range(2)]
    sb.advance_clock(3600 - 30)  # the session is due: 30 s left on its access token
    yield Fleet(
        *workers,
        cookie,
        record.tokens.refresh_token,
        lambda: armed.append(True),
        lambda: claim_armed.append(True),
    )
    for worker in workers:
        worker.close()


def reuse_revocations(sb: Sandbox) -> int:
    return sum(e.reason == "refresh_token_reuse" for e in sb.state.activity.revoked_sessions)


def test_a_refresh_redis_failed_to_save_is_written_back_not_lost(
    fleet: Fleet, outage: Outage, sb: Sandbox
) -> None:
    refreshes = sb.request_count("POST", "/v1/auth/refresh")
    fleet.arm()
    during = fleet.first.user(fleet.cookie)  # refreshed at Authonomy; Redis fails
    outage.recover()
    sb.advance_clock(60)  # past the grace window, and the old access token expired

    # The next request may reach the other worker first: it must not refresh from
    # the stored record (its refresh token is spent); it waits for the write-back.
    elsewhere = fleet.second.user(fleet.cookie)
    after = [fleet.first.user(fleet.cookie), fleet.second.user(fleet.cookie)]

    assert reuse_revocations(sb) == 0, "Authonomy saw the spent refresh token again"
    assert elsewhere in ("user_bob", UNAVAILABLE)
    assert after == ["user_bob", "user_bob"]
    assert during == "user_bob"  # the refreshing request itself was answered
    assert sb.request_count("POST", "/v1/auth/refresh") == refreshes + 1
    stored = fleet.second.store.load(fleet.cookie)
    assert stored is not None and stored.tokens.refresh_token != fleet.spent_token
    assert stored.tokens.expires_at > sb.state.clock.now()


def test_while_unsaved_other_workers_serve_the_valid_access_token(
    fleet: Fleet, outage: Outage, sb: Sandbox
) -> None:
    fleet.arm()
    assert fleet.first.user(fleet.cookie) == "user_bob"
    outage.recover()
    # Still due for refresh, but its access token is valid: served without a refresh.
    assert fleet.second.user(fleet.cookie) == "user_bob"
    assert fleet.first.user(fleet.cookie) == "user_bob"
    sb.advance_clock(60)
    assert fleet.second.user(fleet.cookie) == "user_bob"
    assert reuse_revocations(sb) == 0


# A frozen Redis runs the commands queued on its sockets when it wakes, the timed-out
# save among them: only a crash loses the save for good.
@pytest.mark.parametrize("outage", ["crash"], indirect=True)
def test_a_worker_that_died_unsaved_costs_only_its_session_after_the_patience(
    fleet: Fleet, outage: Outage, sb: Sandbox
) -> None:
    """The one case no worker can save: the refreshing process exits while Redis is
    down, taking the new refresh token with it. Others wait for it a while (503), then
    refresh from the stored record, which Authonomy refuses: the user signs in again."""
    fleet.arm()
    assert fleet.first.user(fleet.cookie) == "user_bob"
    fleet.first.die()
    outage.recover()
    sb.advance_clock(60)
    assert fleet.second.user(fleet.cookie) == UNAVAILABLE
    sb.advance_clock(WRITE_BACK_PATIENCE + 1)
    assert fleet.second.user(fleet.cookie) is None
    assert reuse_revocations(sb) == 1
    assert fleet.second.store.load(fleet.cookie) is None


# An async owner retries only while its loop runs, so the logout surely comes first.
@pytest.mark.parametrize("fleet", ["async"], indirect=True)
@pytest.mark.parametrize("outage", ["crash"], indirect=True)
def test_a_logout_while_a_refresh_is_unsaved_is_not_undone_by_the_write_back(
    fleet: Fleet, outage: Outage
) -> None:
    fleet.arm()
    assert fleet.first.user(fleet.cookie) == "user_bob"  # its save failed: kept unsaved
    outage.recover()
    fleet.second.logout(fleet.cookie)
    # The write-back finds its claim gone with the logout, and saves nothing.
    assert fleet.first.user(fleet.cookie) is None
    assert fleet.second.user(fleet.cookie) is None
    assert fleet.second.store.load(fleet.cookie) is None


# A frozen Redis runs the timed-out save when it wakes, so the record is saved and the
# owner's write-back comes late; an async owner retries only while its loop runs.
@pytest.mark.parametrize("fleet", ["async"], indirect=True)
@pytest.mark.parametrize("outage", ["freeze"], indirect=True)
def test_a_late_write_back_never_replaces_a_newer_refresh(
    fleet: Fleet, outage: Outage, sb: Sandbox
) -> None:
    fleet.arm()
    assert fleet.first.user(fleet.cookie) == "user_bob"
    outage.recover()
    store = fleet.second.store
    wait_until(
        lambda: store.load(fleet.cookie).tokens.refresh_token != fleet.spent_token,  # type: ignore[union-attr]
        "the frozen Redis to run the queued save",
    )
    sb.advance_clock(3600)
    assert fleet.second.user(fleet.cookie) == "user_bob"  # refreshed again, and saved
    newer = store.load(fleet.cookie)
    assert newer is not None
    sb.advance_clock(20)  # past the grace window of the token the newer refresh spent
    assert fleet.first.user(fleet.cookie) == "user_bob"  # its write-back comes now
    kept = store.load(fleet.cookie)
    assert kept is not None and kept.tokens.refresh_token == newer.tokens.refresh_token
    sb.advance_clock(3600)
    assert fleet.second.user(fleet.cookie) == "user_bob"
    assert reuse_revocations(sb) == 0


# A frozen Redis runs the claim queued on its socket when it wakes, after its writer
# gave up on the answer: the claim is there though its writer never refreshed.
@pytest.mark.parametrize("outage", ["freeze"], indirect=True)
def test_a_claim_written_as_redis_failed_is_dropped_by_its_writer(
    fleet: Fleet, outage: Outage, sb: Sandbox
) -> None:
    refreshes = sb.request_count("POST", "/v1/auth/refresh")
    fleet.arm_claim()
    assert fleet.first.user(fleet.cookie) == UNAVAILABLE  # no refresh: nothing rotated
    outage.recover()
    sb.advance_clock(60)  # the access token expired: only a refresh serves the user
    # No worker waits on the leftover claim: its writer drops it when Redis answers.
    assert fleet.first.user(fleet.cookie) == "user_bob"
    assert fleet.second.user(fleet.cookie) == "user_bob"
    assert sb.request_count("POST", "/v1/auth/refresh") == refreshes + 1
    assert reuse_revocations(sb) == 0
