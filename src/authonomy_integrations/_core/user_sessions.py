"""A user's sessions: listed, ended one by one, or all at once ("sign out everywhere",
an admin's call, a back-channel logout for the whole user).

Memory and Redis stores keep an index of each user's sessions (expiring with them), so
every session can be found and ended: deleted from the store, its ``sid`` refused, its
refresh token logged out at Authonomy. The cookie store cannot list sessions: there the
user's sessions begun before the sign-out are refused from then on (a "not before" time
kept like a revocation), and each one is logged out at Authonomy when it next comes back.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from .context import Context, Part
from .devices import handle_key, listing, session_handle
from .effects import Flow, IndexedSessions, LoadSession, SessionExclusive
from .session_flows import SessionKeeper, SessionState
from .sessions import SessionRecord, is_expired, text_claim

__all__ = ["SessionEnded", "SessionListing", "UserSessions"]


@dataclass(frozen=True, slots=True)
class SessionListing:
    """The caller's session state and, when signed in, the JSON listing of its user."""

    state: SessionState
    body: bytes | None


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """What ending one session by its handle did: ``found`` it, and whether it was the
    caller's ``current`` one (whose cookie is then cleared)."""

    state: SessionState
    found: bool
    current: bool = False


class UserSessions(Part):
    """Lists and ends the sessions of one user."""

    def __init__(self, ctx: Context, sessions: SessionKeeper) -> None:
        super().__init__(ctx)
        self.sessions = sessions
        secrets_ = ctx.config.session_secrets
        # Keyed by the session secret, so every worker names a session alike; an app
        # without one has no session routes, and a random key will do.
        self.key = handle_key(secrets_[0]) if secrets_ else secrets.token_bytes(32)

    def _live(self, record: SessionRecord | None, user_id: str) -> bool:
        config = self.config
        return (
            record is not None
            and text_claim(record.claims, "sub") == user_id
            and self.sessions.acceptable(record)
            and not is_expired(
                record, self.clock(), config.session_idle_timeout, config.session_max_age
            )
        )

    def records(self, user_id: str, current: SessionRecord | None) -> Flow[list[SessionRecord]]:
        """The live sessions of ``user_id`` (``current`` among them when given)."""
        found = {current.id: current} if current is not None else {}
        indexed: list[str] = yield IndexedSessions(user_id, self.clock())
        for session_id in indexed:
            if session_id in found:
                continue
            record = yield LoadSession(session_id)
            if self._live(record, user_id):
                found[session_id] = record
        return list(found.values())

    def _caller(self, cookie: str | None) -> Flow[tuple[SessionState, SessionRecord | None]]:
        """The caller's session (refreshed when due) and its record, if signed in."""
        if not cookie:
            return SessionState(None), None
        state: SessionState = yield from self.sessions.authenticate_session(cookie)
        if state.user is None:
            return state, None
        record = yield LoadSession(state.set_cookie or cookie)
        return state, record if self._live(record, state.user.id) else None

    def listing(self, cookie: str | None) -> Flow[SessionListing]:
        """The caller's user's sessions as JSON, newest first."""
        state, current = yield from self._caller(cookie)
        if state.user is None or current is None:
            return SessionListing(state, None)
        records = yield from self.records(state.user.id, current)
        return SessionListing(state, listing(records, self.key, current.id))

    def end_by_handle(self, cookie: str | None, handle: str) -> Flow[SessionEnded]:
        """End the caller's user's session named ``handle`` in its listing."""
        state, current = yield from self._caller(cookie)
        if state.user is None or current is None:
            return SessionEnded(state, found=False)
        records = yield from self.records(state.user.id, current)
        target = next((r for r in records if self._named(r, handle)), None)
        if target is None:
            return SessionEnded(state, found=False)
        if target.id == current.id:
            yield from self.sessions.logout(state.set_cookie or cookie, "ended_by_user")
            return SessionEnded(state, found=True, current=True)
        yield from self.end_record(target, "ended_by_user")
        return SessionEnded(state, found=True)

    def _named(self, record: SessionRecord, handle: str) -> bool:
        return hmac.compare_digest(session_handle(self.key, record.id), handle)

    def end_record(self, record: SessionRecord, why: str) -> Flow[None]:
        """End a session found in the index (its cookie value is its id): here, for every
        worker, and at Authonomy."""
        ended = yield SessionExclusive(record.id, lambda: self.sessions.end_local(record.id))
        if ended is None:
            return
        self.sessions.report_ended(ended, why)
        yield from self.sessions.revoke_record(ended)

    def end_all(self, user_id: str, why: str, but: str | None = None) -> Flow[int]:
        """End every session of ``user_id`` but the one of id ``but``; how many were
        found in the store.

        The sessions the store cannot list (a cookie store's) are refused in this
        process from then on; only once every listed one has ended, so that a store
        failing on the way (a 503) leaves nothing refused here that other processes
        still serve, and the caller can try again."""
        since = self.clock()
        records = yield from self.records(user_id, None)
        for record in records:
            if record.id != but:
                yield from self.end_record(record, why)
        self.sessions.sign_out_before(user_id, since)
        return len(records)

    def logout_everywhere(self, cookie: str | None) -> Flow[None]:
        """``POST logout_path`` with ``everywhere=1``: the caller's session and every
        other of its user end. Only a live session may end the others.

        The caller's own session ends last: if the store fails before, the answer is a
        503 and the caller, still signed in, can try again (ended first, a retry would
        find no live session and end nothing more)."""
        record: SessionRecord | None = (yield LoadSession(cookie)) if cookie else None
        user_id = text_claim(record.claims, "sub") if record is not None else None
        if record is not None and user_id is not None and self._live(record, user_id):
            yield from self.end_all(user_id, "signed_out_everywhere", but=record.id)
        yield from self.sessions.logout(cookie, "signed_out_everywhere")
