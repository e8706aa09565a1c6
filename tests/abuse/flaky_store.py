"""A session store that fails on demand, and the steps the store-failure suites share:
an app on it, sign-ins, a logout from the app's own page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from authonomy_integrations import StoreUnavailableError
from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as
from tests.browsing import PAGE

from .apps import Kit, kit, take_session_cookie, with_session_cookie

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


@contextlib.contextmanager
def flaky_kit(adapter: str, sb: Sandbox) -> Iterator[tuple[Kit, FlakyStore]]:
    """The small app of ``adapter`` on a :class:`FlakyStore`, one try per store call."""
    store = FlakyStore()
    with kit(adapter, sb.config(max_retries=0, session_store=store)) as app:
        yield app, store


def signed_in(app: Kit, count: int = 1) -> list[str]:
    """The session cookies of ``count`` sign-ins of alice (her devices)."""
    cookies = []
    for _ in range(count):
        assert login_as(app.client, "alice", next_path="/home") == "/home"
        cookies.append(take_session_cookie(app.client))
    return cookies


def logout(client: Any, cookie: str, *, everywhere: bool = False) -> Any:
    """``POST /auth/logout`` from the app's own page with the session ``cookie``."""
    path = "/auth/logout?everywhere=1" if everywhere else "/auth/logout"
    return client.post(path, headers={**SAME_SITE, **with_session_cookie(client, cookie)})
