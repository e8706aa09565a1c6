"""Logout while the session store fails: a store out of reach before anything ended is a
503 the user can retry (the session kept), and a failure after the session was deleted
no longer turns a finished logout into an error (so nobody retries a logout that was done)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations import StoreUnavailableError
from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as
from tests.browsing import PAGE

from .apps import ADAPTERS, home, kit, set_cookies, take_session_cookie, with_session_cookie

#: A logout from the app's own page.
SAME_SITE = {**PAGE, "Sec-Fetch-Site": "same-origin"}


class FlakyStore(MemorySessionStore):
    """A memory store shared like Redis (it records revoked Authonomy sessions), whose
    reads and deletes fail while ``down``, deletes alone while ``deletes_down`` (it went
    away between a logout's read and its delete), deletes' answers (not the deletes)
    while ``delete_replies_lost``, saves while ``saves_down``, its user
    index while ``index_down``, and its revocations while ``revocations_down``."""

    shares_revocations = True

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.deletes_down = False
        #: Deletes are done, then answered with a failure (the reply was lost).
        self.delete_replies_lost = False
        self.saves_down = False
        #: Session ids whose delete fails (while the others succeed).
        self.undeletable: set[str] = set()
        self.index_down = False
        self.revocations_down = False
        self.revoked: set[str] = set()

    def _check(self, down: bool) -> None:
        if down:
            raise StoreUnavailableError("FlakyStore: out of reach")

    def load(self, cookie_value: str) -> SessionRecord | None:
        self._check(self.down)
        return super().load(cookie_value)

    async def aload(self, cookie_value: str) -> SessionRecord | None:
        return self.load(cookie_value)

    def save(self, record: SessionRecord, ttl: int) -> str:
        self._check(self.down or self.saves_down)
        return super().save(record, ttl)

    async def asave(self, record: SessionRecord, ttl: int) -> str:
        return self.save(record, ttl)

    def delete(self, cookie_value: str) -> None:
        self._check(self.down or self.deletes_down or cookie_value in self.undeletable)
        super().delete(cookie_value)
        self._check(self.delete_replies_lost)

    def unindex_session(self, user_id: str, session_id: str) -> None:
        self._check(self.index_down)
        super().unindex_session(user_id, session_id)

    async def aunindex_session(self, user_id: str, session_id: str) -> None:
        self.unindex_session(user_id, session_id)

    async def adelete(self, cookie_value: str) -> None:
        self.delete(cookie_value)

    def revoke_sid(self, sid: str, ttl: int) -> None:
        self._check(self.revocations_down)
        self.revoked.add(sid)

    async def arevoke_sid(self, sid: str, ttl: int) -> None:
        self.revoke_sid(sid, ttl)

    def is_sid_revoked(self, sid: str) -> bool:
        self._check(self.down)
        return sid in self.revoked

    async def ais_sid_revoked(self, sid: str) -> bool:
        return self.is_sid_revoked(sid)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _logout(client: Any, cookie: str) -> Any:
    return client.post("/auth/logout", headers={**SAME_SITE, **with_session_cookie(client, cookie)})


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_while_the_store_is_out_of_reach_is_a_503_that_can_be_retried(
    adapter: str, sb: Sandbox
) -> None:
    store = FlakyStore()
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        cookie = take_session_cookie(app.client)
        store.down = True
        answer = _logout(app.client, cookie)
        assert answer.status_code == 503
        assert answer.headers["retry-after"]
        assert not any(c.startswith("authonomy_session=") for c in set_cookies(answer))
        store.down = False
        assert home(app.client, cookie) == 200  # nothing was ended
        done = _logout(app.client, cookie)
        assert done.status_code == 303
        assert home(app.client, cookie) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_delete_fails_ends_nothing_in_this_process_either(
    adapter: str, sb: Sandbox
) -> None:
    # Read, then the store goes away before the delete: answered 503 and the session
    # goes on here too. Refused by this process alone, it would be a sign-out in one
    # worker while the others, reading the record that is still there, serve it.
    store = FlakyStore()
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        cookie = take_session_cookie(app.client)
        store.deletes_down = True
        answer = _logout(app.client, cookie)
        assert answer.status_code == 503
        assert not any(c.startswith("authonomy_session=") for c in set_cookies(answer))
        assert home(app.client, cookie) == 200
        store.deletes_down = False
        assert home(app.client, cookie) == 200
        assert _logout(app.client, cookie).status_code == 303
        assert home(app.client, cookie) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_session_is_deleted_is_done_though_the_index_fails(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        cookie = take_session_cookie(app.client)
        store.index_down = True
        with caplog.at_level(logging.WARNING, "authonomy_integrations"):
            answer = _logout(app.client, cookie)
        assert answer.status_code == 303  # nobody retries a logout that was done
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        assert home(app.client, cookie) == 401
    assert any("stays in its user's index" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_sign_out_everywhere_cut_short_by_the_store_can_be_retried(
    adapter: str, sb: Sandbox
) -> None:
    # The store fails to end the user's other session: the answer is a 503, and the
    # caller is still signed in to try again. Had its own session ended first, the retry
    # would find no live session, end nothing more and answer 303 while the other
    # session lived on.
    store = FlakyStore()
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        laptop = take_session_cookie(app.client)
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        phone = take_session_cookie(app.client)
        store.undeletable.add(laptop)
        everywhere = {**SAME_SITE, **with_session_cookie(app.client, phone)}
        answer = app.client.post("/auth/logout?everywhere=1", headers=everywhere)
        assert answer.status_code == 503
        assert home(app.client, phone) == 200 and home(app.client, laptop) == 200
        store.undeletable.clear()
        everywhere = {**SAME_SITE, **with_session_cookie(app.client, phone)}
        done = app.client.post("/auth/logout?everywhere=1", headers=everywhere)
        assert done.status_code == 303
        assert home(app.client, phone) == 401 and home(app.client, laptop) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_revocation_cannot_be_shared_still_ends_the_session(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        cookie = take_session_cookie(app.client)
        store.revocations_down = True
        with caplog.at_level(logging.ERROR, "authonomy_integrations"):
            answer = _logout(app.client, cookie)
        assert answer.status_code == 303
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        assert home(app.client, cookie) == 401
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1  # ended at Authonomy
    assert any("revocation could not be shared" in r.getMessage() for r in caplog.records)
