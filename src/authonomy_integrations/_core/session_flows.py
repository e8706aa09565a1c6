"""Sessions and refresh: a session cookie to its user, refreshed, touched, expired or
ended, and logout.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import (
    OUTAGE_ERRORS,
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    InvalidGrantError,
    SessionTooLargeError,
    StoreUnavailableError,
    TokenError,
)
from . import events as ev
from .context import Context, Part
from .effects import (
    DeleteSession,
    Flow,
    IndexSession,
    LoadSession,
    SaveSession,
    SessionExclusive,
    UnindexSession,
)
from .events import short_hash, token_reason
from .refresh_claims import RefreshClaims
from .sessions import (
    SessionRecord,
    SessionState,
    TokenSet,
    identity_change,
    is_expired,
    needs_refresh,
    store_ttl,
    text_claim,
    touch,
    with_tokens,
)
from .token_cache import TokenCache
from .verifier import ENDED_SESSIONS, TokenVerifier

__all__ = ["SessionKeeper", "SessionState"]

logger = logging.getLogger("authonomy_integrations")
#: Seconds between rewrites of a session's ``last_seen`` (see ``sessions.touch``).
_TOUCH_INTERVAL = 60.0
#: Sessions kept decoded in memory, so a repeat cookie costs a lookup.
_RECENT_SESSIONS = 10_000


_NO_SESSION = SessionState(None, clear_cookie=True)
#: A session that is not to be used on this request, but stays as it is.
_NOT_HERE = SessionState(None)


class SessionKeeper(Part):
    """Authenticates session cookies, refreshes and touches sessions, ends them."""

    def __init__(
        self, ctx: Context, tokens: TokenVerifier, *, session_cache_ttl: float = 0.0
    ) -> None:
        """``session_cache_ttl``: seconds a decoded session may be reused without reading
        the store again; 0 (the default) for stores other processes write to."""
        super().__init__(ctx)
        self.tokens = tokens
        self.session_cache_ttl = session_cache_ttl
        #: Ids of sessions logged out here, refused even when a copy of the cookie comes
        #: back (the cookie store cannot forget a cookie); kept for a session's lifetime.
        self._ended = TokenCache(ENDED_SESSIONS)
        #: User ids signed out everywhere here, with the time: sessions they started
        #: before it are refused (all the cookie store, which cannot list them, can do).
        self._signed_out = TokenCache(ENDED_SESSIONS)
        #: Sessions refreshed here, by id: a cookie store's request may still carry the
        #: cookie sealed before the refresh, whose refresh token is spent.
        self._refreshed = TokenCache(_RECENT_SESSIONS)
        #: Decoded sessions by cookie value, while no refresh, touch or expiry is due.
        self.recent_sessions = TokenCache(_RECENT_SESSIONS)
        tokens.forget_sessions = self.recent_sessions.clear
        #: Claims on refreshes, for stores shared by processes (the runtime enables them).
        self.claims = RefreshClaims(ctx)
        #: Set by the runtime when revoking a sid deletes its stored sessions: a session
        #: that loads needs no separate question to the store about its sid.
        self.store_ends_revoked = False

    def forget(self, cookie: str | None) -> None:
        """Drop the cached session of ``cookie`` (``None``: every cached session), say
        because another process changed it."""
        if cookie is None:
            self.recent_sessions.clear()
        else:
            self.recent_sessions.discard(cookie)

    def cached_session(self, cookie: str) -> SessionState | None:
        """The state of a session seen moments ago that needs no refresh, touch or check."""
        state: SessionState | None = self.recent_sessions.get(cookie, self.clock())
        return state

    def authenticate_session(
        self, cookie: str, accepts: Callable[[object], bool] | None = None
    ) -> Flow[SessionState]:
        """The user of a session cookie, refreshing the session when its token expires.

        ``accepts(customer_id)``, when given, says whether the session's customer may
        call on this request (a tenant host): if not, the session is not used, and not
        refreshed, touched or ended either; it stays good where it belongs."""
        yield from self.claims.write_back_first()
        now = self.clock()
        # Read before the load: a change reported while it runs must not be cached over.
        generation = self.recent_sessions.generation
        record = yield LoadSession(cookie)
        if record is not None and self._signed_out_everywhere(record):
            # Not another app's (those are refused below): this one's user signed out
            # everywhere here after it began.
            if not self._foreign(record):
                yield from self._end_signed_out(cookie, record)
            return _NO_SESSION
        if record is None or self._has_ended(record):
            return _NO_SESSION
        if self._foreign(record):
            # Another app's session (shared store or secret): not ours to end there.
            logger.warning("session refused: it was made by another app (iss or aud differs)")
            return _NO_SESSION
        if accepts is not None and not accepts(record.claims.get("customer_id")):
            return _NOT_HERE
        if not self.config.accepts_customer(record.claims.get("customer_id")):
            self._ended_event(record, "customer_not_accepted", logging.WARNING)
            yield from self.end_local(cookie)
            return _NO_SESSION
        revoked = yield from self.tokens.sid_revoked(
            record.claims.get("sid"), ask_store=not self.store_ends_revoked
        )
        if revoked:
            self._ended_event(record, "signed_out")
            yield from self.end_local(cookie)
            return _NO_SESSION
        if is_expired(record, now, self.config.session_idle_timeout, self.config.session_max_age):
            self._ended_event(record, "expired")
            yield DeleteSession(cookie)
            return _NO_SESSION
        if needs_refresh(record, now, self.config.refresh_margin):
            refreshed: SessionState = yield SessionExclusive(
                record.id, lambda: self._refresh_session(cookie)
            )
            return refreshed
        if touch(record, now, _TOUCH_INTERVAL) is not None:
            touched: SessionState = yield SessionExclusive(
                record.id, lambda: self._touch_locked(cookie)
            )
            return touched
        state = SessionState.of(record, cookie, None)
        self._remember(cookie, record, state, now, generation)
        return state

    def _remember(
        self, cookie: str, record: SessionRecord, state: SessionState, now: float, generation: int
    ) -> None:
        if self.session_cache_ttl <= 0 or self.recent_sessions.generation != generation:
            return
        config = self.config
        until = min(
            now + self.session_cache_ttl,
            record.tokens.expires_at - config.refresh_margin,
            record.last_seen + _TOUCH_INTERVAL,
            record.last_seen + config.session_idle_timeout,
            record.created_at + config.session_max_age,
        )
        self.recent_sessions.keep(cookie, state, until)
        if self.recent_sessions.generation != generation:  # forgotten while kept
            self.recent_sessions.discard(cookie)

    def _report(
        self, name: str, record: SessionRecord, why: str | None = None, **fields: Any
    ) -> None:
        """Report event ``name`` about the session of ``record`` (its user and customer)."""
        claims = record.claims
        self.events.emit(
            name,
            why,
            user_id=text_claim(claims, "sub"),
            customer_id=text_claim(claims, "customer_id"),
            session=short_hash(record.id),
            **fields,
        )

    def _ended_event(self, record: SessionRecord, why: str, level: int | None = None) -> None:
        """Report that the session of ``record`` ended, and ``why``."""
        self._report(ev.SESSION_ENDED, record, why, level=level)

    def access_token(self, cookie: str) -> Flow[str | None]:
        """The current access token of the session of ``cookie``, refreshed first when
        due; ``None`` when the cookie names no live session."""
        state = yield from self.authenticate_session(cookie)
        if state.user is None:
            return None
        record = self.latest((yield LoadSession(state.set_cookie or cookie)))
        return record.tokens.access_token if record is not None else None

    def report_ended(self, record: SessionRecord, why: str) -> None:
        """Report that the session of ``record`` ended, and ``why`` (for other parts)."""
        self._ended_event(record, why)

    def _touch_locked(self, cookie: str) -> Flow[SessionState]:
        """Rewrite ``last_seen`` on the record as stored now, under the session's lock: a
        refresh saved meanwhile is kept, not overwritten with the tokens read before."""
        now = self.clock()
        current = yield LoadSession(cookie)
        if current is None or not self.acceptable(current):
            return _NO_SESSION
        touched, new_cookie = touch(current, now, _TOUCH_INTERVAL), None
        with contextlib.suppress(SessionTooLargeError):  # kept as it was; a refresh decides
            new_cookie = None if touched is None else (yield from self.save(touched, now))
        return SessionState.of(current, cookie, new_cookie)

    def _refresh_session(self, cookie: str) -> Flow[SessionState]:
        with self.events.span("authonomy.refresh"):
            state: SessionState = yield from self._refresh_locked(cookie)
        return state

    def _refresh_locked(self, cookie: str) -> Flow[SessionState]:
        now = self.clock()
        # Another request may have refreshed while this one waited for the lock.
        current = self.latest((yield LoadSession(cookie)))
        if current is None or not self.acceptable(current):
            return _NO_SESSION
        if not needs_refresh(current, now, self.config.refresh_margin):
            return SessionState.of(current, cookie, None)
        unsaved_elsewhere = yield from self.claims.owner_elsewhere(current, now)
        if unsaved_elsewhere:  # its new refresh token is not stored yet
            saving = "the session's refreshed tokens are still being saved by another worker"
            return self._while_token_lasts(
                current, cookie, now, StoreUnavailableError(saving, retry_after=1)
            )
        # Written before Authonomy rotates the refresh token; removed with the save.
        claim = yield from self.claims.claim(current, now)
        try:
            answer = yield from self.api.auth.refresh(current.tokens.refresh_token)
            tokens = TokenSet.from_response(answer, now)
            claims = yield from self.tokens.verify_access_token(tokens.access_token)
        except (InvalidGrantError, TokenError) as exc:
            why = token_reason(exc) if isinstance(exc, TokenError) else "invalid_grant"
            self._refresh_failed(current, why, now, detail=str(exc))
            self._ended_event(current, "refresh_refused")
            yield from self.end_local(cookie)
            return _NO_SESSION
        except (AuthonomyUnavailableError, AuthonomyAPIError) as exc:
            # Out of reach, or refusing the app itself (its API key): not the session's
            # fault, so it is kept, and served while its access token lasts.
            why = "unavailable" if isinstance(exc, OUTAGE_ERRORS) else "app_refused"
            self._refresh_failed(current, why, now, detail=str(exc))
            yield from self.claims.drop(current, claim, now)
            kept = AuthonomyUnavailableError(
                "Authonomy is temporarily unavailable; the session is kept",
                retry_after=getattr(exc, "retry_after", None) or 5,
            )
            kept.__cause__ = exc
            return self._while_token_lasts(current, cookie, now, kept)
        changed = identity_change(current.claims, claims)
        if changed is not None:
            self._ended_event(current, f"{changed}_changed", logging.WARNING)
            yield from self.revoke_answer(answer, claims)
            yield from self.end_local(cookie)
            return _NO_SESSION
        refreshed = with_tokens(current, tokens, claims, now)
        try:
            new_cookie = yield from self._save_refreshed(refreshed, now, claim)
        except SessionTooLargeError as exc:
            # Permanent: the grown session will never fit again; end it cleanly.
            self._ended_event(current, "too_large", logging.ERROR)
            logger.error("the refreshed session does not fit its store: %s", exc)
            yield from self.revoke_answer(answer)
            yield from self.end_local(cookie)
            return _NO_SESSION
        if new_cookie is None:
            # The claim is gone: a logout removed it, another process took the session
            # over after waiting, or the store lost it (a failover). What is stored now
            # is not this refresh's to replace or delete; the next request goes by it.
            logger.warning("a refreshed session lost its claim before its save; not saved")
            raise StoreUnavailableError(
                "the session changed while it was refreshed; try again", retry_after=1
            )
        self._refreshed.keep(refreshed.id, refreshed, refreshed.tokens.expires_at)
        self._report(ev.SESSION_REFRESHED, refreshed, duration=max(0.0, self.clock() - now))
        return SessionState.of(refreshed, cookie, new_cookie)

    def _save_refreshed(
        self, record: SessionRecord, now: float, claim: str | None
    ) -> Flow[str | None]:
        if claim is None:
            return (yield from self.save(record, now))
        return (yield from self.claims.save(record, now, claim))

    def _refresh_failed(self, record: SessionRecord, why: str, now: float, detail: str) -> None:
        duration = max(0.0, self.clock() - now)
        self._report(ev.REFRESH_FAILED, record, why, duration=duration, detail=detail)

    def _while_token_lasts(
        self, record: SessionRecord, cookie: str, now: float, error: Exception
    ) -> SessionState:
        """The session as it is while its access token lasts; after that ``error``."""
        if record.tokens.expires_at + self.config.leeway > now:
            return SessionState.of(record, cookie, None)
        raise error

    def _foreign(self, record: SessionRecord) -> bool:
        """Whether the session was made by another app (issuer or audience differs)."""
        config = self.config
        return record.issuer != config.resolved_issuer or record.audience != config.audience

    def acceptable(self, record: SessionRecord) -> bool:
        """Whether this app may use the session: its own, of an accepted customer, live."""
        return (
            not self._foreign(record)
            and self.config.accepts_customer(record.claims.get("customer_id"))
            and not self._has_ended(record)
        )

    def _has_ended(self, record: SessionRecord) -> bool:
        ended = self._ended.get(record.id, self.clock()) is not None
        return ended or self._signed_out_everywhere(record)

    def _signed_out_everywhere(self, record: SessionRecord) -> bool:
        """Whether the session's user signed out everywhere here after it began."""
        before = self._signed_out.get(text_claim(record.claims, "sub") or "", self.clock())
        return before is not None and record.created_at <= before

    def sign_out_before(self, user_id: str, when: float) -> None:
        """Refuse, in this process, every session ``user_id`` started until ``when``."""
        self._signed_out.keep(user_id, when, when + self.config.session_max_age)
        self.recent_sessions.clear()

    def _end_signed_out(self, cookie: str, record: SessionRecord) -> Flow[None]:
        """End a session found after its user signed out everywhere (a cookie store's,
        which could not be listed then): here and at Authonomy."""
        self._ended_event(record, "signed_out_everywhere")
        yield from self.end_local(cookie)
        yield from self.revoke_record(record)

    def latest(self, record: SessionRecord | None) -> SessionRecord | None:
        """``record``, or its refresh made here when that is newer (a cookie sealed before
        the refresh may come back while its new cookie is on its way to the browser)."""
        if record is None:
            return None
        refreshed: SessionRecord | None = self._refreshed.get(record.id, self.clock())
        newer = refreshed is not None and refreshed.tokens.expires_at > record.tokens.expires_at
        return refreshed if newer else record

    def index(self, record: SessionRecord) -> Flow[None]:
        """List a new session under its user, for "sign out everywhere" and listings."""
        max_age = self.config.session_max_age
        deadline = record.created_at + max_age
        user_id = text_claim(record.claims, "sub") or ""
        yield IndexSession(user_id, record.id, deadline, int(max_age) + 1)

    def revoke_record(self, record: SessionRecord) -> Flow[None]:
        """End an ended session's Authonomy side: its ``sid`` refused by every process
        sharing the store, its refresh token logged out (both best effort: the session
        is gone here already)."""
        try:
            yield from self.tokens.revoke_sid(
                text_claim(record.claims, "sid"), _expiry(record.claims)
            )
        except StoreUnavailableError as exc:
            # Refused here already; other workers may accept the session's access tokens
            # until they expire, and its cookie until they read the deleted record (1 min).
            logger.error("the session's revocation could not be shared: %s", exc)
        try:
            yield from self.api.auth.logout(refresh_token=record.tokens.refresh_token)
        except AuthonomyError as exc:
            # The local session is gone; the refresh token left with it.
            logger.warning("logout at Authonomy failed: %s", exc)

    def save(self, record: SessionRecord, now: float) -> Flow[str]:
        """Save ``record`` for as long as it may live; its cookie value."""
        ttl = store_ttl(record, now, self.config.session_idle_timeout, self.config.session_max_age)
        cookie: str = yield SaveSession(record, ttl)
        return cookie

    def end_local(self, cookie: str) -> Flow[SessionRecord | None]:
        """End the session of ``cookie`` here (refused from now on); its record.

        Raises :class:`StoreUnavailableError` when the store could not delete the
        record: then nothing has ended, in this process or any other, and the caller
        may try again."""
        record: SessionRecord | None = yield LoadSession(cookie)
        # Other cookie values of this session may be cached; logouts are rare enough
        # to forget every cached session rather than index them by id.
        self.recent_sessions.clear()
        try:
            yield DeleteSession(cookie)
        except StoreUnavailableError:
            # A delete whose answer was lost may have been done: then the session is
            # ended and must be finished now, as a retry would find nothing to end.
            if record is None or not (yield from self._deleted_after_all(cookie)):
                raise
            logger.warning("a session's delete failed to answer but was done; it is ended")
        if record is None:
            return None
        # Only once the record is gone: refused here before that, the session would
        # still be served by every other process sharing the store.
        self._ended.keep(record.id, True, record.created_at + self.config.session_max_age)
        try:
            yield UnindexSession(text_claim(record.claims, "sub") or "", record.id)
        except StoreUnavailableError as exc:
            # The session is gone; its stale entry is skipped by listings and expires.
            logger.warning("an ended session stays in its user's index: %s", exc)
        return record

    def _deleted_after_all(self, cookie: str) -> Flow[bool]:
        """Whether the store, asked again after a failed delete, no longer has the session
        (``False`` when it cannot answer)."""
        try:
            again: SessionRecord | None = yield LoadSession(cookie)
        except StoreUnavailableError:
            return False
        return again is None

    def revoke_answer(
        self, answer: Mapping[str, Any], claims: Mapping[str, Any] | None = None
    ) -> Flow[None]:
        """End the Authonomy session of a token answer the app refused or cannot use: its
        ``sid`` refused here, its refresh token logged out at Authonomy (best effort)."""
        if claims is not None:
            try:
                yield from self.tokens.revoke_sid(text_claim(claims, "sid"), _expiry(claims))
            except StoreUnavailableError as exc:
                # These tokens reached no client; what matters is that Authonomy ends
                # them below, which a store out of reach must not skip.
                logger.error("the refused tokens' revocation could not be shared: %s", exc)
        refresh_token = answer.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            return
        try:
            yield from self.api.auth.logout(refresh_token=refresh_token)
        except AuthonomyError as exc:
            logger.warning("revoking refused tokens at Authonomy failed: %s", exc)

    def logout(self, cookie: str | None, why: str = "logout") -> Flow[SessionRecord | None]:
        """End the session here and at Authonomy (its refresh tokens stop working); the
        ended session's record, reported as ended because of ``why``."""
        if not cookie:
            return None
        yield from self.claims.write_back_first()
        found: SessionRecord | None = yield LoadSession(cookie)
        if found is None:
            record = yield from self.end_local(cookie)
        else:
            # Under the session's refresh lock: a refresh running in another worker
            # saves its result first and the delete comes after, instead of the
            # refreshed record being saved back over the logout.
            record = yield SessionExclusive(found.id, lambda: self.end_local(cookie))
        if record is None:
            return None
        self._ended_event(record, why)
        # The session is gone, so the logout is done: a 503 now would find nothing to end.
        yield from self.revoke_record(self.latest(record) or record)
        return record


def _expiry(claims: Mapping[str, Any]) -> float | None:
    """A token's ``exp``, when it is a number: its revocation must last that long."""
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
