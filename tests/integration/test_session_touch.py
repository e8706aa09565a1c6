"""A session's ``last_seen`` write never undoes a refresh another request saved meanwhile.

Two workers share one store. The first reads the session when only its ``last_seen`` is
due a rewrite; before it writes, the second refreshes the session (Authonomy rotates the
refresh token). Written from what the first read, the rewrite would put the spent refresh
token back, and the next refresh would present it: Authonomy takes that for a stolen
token and revokes the whole session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.stores._base import SessionRecord

from .helpers import sign_in


class InterleavingStore(MemorySessionStore):
    """Runs ``meanwhile`` once, right after the next load has read the record."""

    meanwhile: Callable[[], None] | None = None

    def load(self, cookie_value: str) -> SessionRecord | None:
        record = super().load(cookie_value)
        run, self.meanwhile = self.meanwhile, None
        if run is not None:
            run()
        return record


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _reuse_revocations(sb: Sandbox) -> int:
    return sum(e.reason == "refresh_token_reuse" for e in sb.state.activity.revoked_sessions)


def test_a_touch_keeps_a_refresh_saved_while_it_was_pending(sb: Sandbox) -> None:
    store = InterleavingStore()
    config = sb.config(refresh_margin=60, session_store=store)
    first, second = (AuthonomySync(config, clock=sb.state.clock.now) for _ in range(2))
    try:
        cookie = sign_in(first).session_cookie
        signed_in = store.load(cookie)
        assert signed_in is not None
        sb.advance_clock(3600 - 90)  # last_seen is due a rewrite; the refresh is not due

        def second_refreshes() -> None:
            sb.advance_clock(60)  # now the refresh is due
            assert second.authenticate_session(cookie).user is not None

        store.meanwhile = second_refreshes
        assert first.authenticate_session(cookie).user is not None
        kept = store.load(cookie)
        assert kept is not None
        assert kept.tokens.refresh_token != signed_in.tokens.refresh_token

        sb.advance_clock(3600)  # the next refresh presents the stored refresh token
        state = first.authenticate_session(cookie)
        assert state.user is not None and state.user.id == "user_bob"
        assert _reuse_revocations(sb) == 0
    finally:
        first.close()
        second.close()
