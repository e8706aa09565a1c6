"""Refresh claims: a refreshed session its shared store failed to save is not lost.

Authonomy rotates a refresh token when it is used, and ends the session if the spent one
comes back later. With a store that several processes share (Redis), the process about
to refresh therefore first writes a *claim* on the session; the refreshed record is saved,
and the claim removed, in one step that only happens while the claim is still there. When
the store fails between Authonomy's answer and that save, this process keeps the record
and writes it back as soon as the store answers (before any of its own session reads,
and from a background retry); other processes, finding the claim, serve the access token
they have or answer 503 instead of presenting the spent refresh token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .._errors import StoreUnavailableError
from .context import Context, Part
from .effects import (
    Background,
    ClaimRefresh,
    DropRefreshClaim,
    Flow,
    RefreshClaimed,
    SaveRefreshed,
    Sleep,
)
from .sessions import SessionRecord, store_ttl

__all__ = ["WRITE_BACK_PATIENCE", "RefreshClaims"]

logger = logging.getLogger("authonomy_integrations")
#: Refreshed sessions kept for writing back after their store failed; beyond that the
#: oldest is given up (its user signs in again) so that an outage cannot exhaust memory.
_UNSAVED_LIMIT = 10_000
#: Seconds between attempts to write back unsaved sessions while the store is down.
_WRITE_BACK_RETRY = 0.5
#: Seconds a refresh claim may stay once the store answers again before other processes
#: take its owner for gone (exited while the store was down) and refresh from the record
#: they have. A live owner writes back within ``_WRITE_BACK_RETRY`` plus one store command.
WRITE_BACK_PATIENCE = 30.0


@dataclass(frozen=True, slots=True)
class _Unsaved:
    """What a store failure left undone in it for one session: a refreshed record to
    save under its claim, or (``record`` ``None``, nothing was rotated) a claim that may
    have been written and must be dropped, lest other processes wait on it."""

    session_id: str
    claim: str
    #: When the session's store lifetime ends (then there is nothing left to do).
    until: float
    record: SessionRecord | None = None


class RefreshClaims(Part):
    """Claims on sessions being refreshed, and the records a store failure left unsaved."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        #: Whether the store is shared by processes and takes claims (``ClaimRefresh``
        #: and its kin); set by the runtime from the store it drives.
        self.enabled = False
        #: Refreshed records by session id that their store failed to save, oldest first.
        self._unsaved: dict[str, _Unsaved] = {}
        self._writing_back = False

    @property
    def unsaved_count(self) -> int:
        """How many refreshed sessions wait to be written back to their store."""
        return len(self._unsaved)

    def ttl(self, record: SessionRecord, now: float) -> int:
        """Seconds the store keeps ``record`` (and a claim on it)."""
        config = self.config
        return store_ttl(record, now, config.session_idle_timeout, config.session_max_age)

    def claim(self, record: SessionRecord, now: float) -> Flow[str | None]:
        """Claim ``record``'s session before Authonomy rotates its refresh token; the
        claim, or ``None`` when the store takes no claims."""
        if not self.enabled:
            return None
        claim = self.random_bytes(16).hex()
        ttl = self.ttl(record, now)
        try:
            yield ClaimRefresh(record.id, claim, ttl)
        except StoreUnavailableError:
            # The claim may have been written before the store failed.
            yield from self._finish_later(_Unsaved(record.id, claim, now + ttl))
            raise
        return claim

    def owner_elsewhere(self, record: SessionRecord, now: float) -> Flow[bool]:
        """Whether another process's refresh of ``record`` is unsaved, so refreshing from
        the stored record would present a spent token (Authonomy would end the session).

        An owner silent ``WRITE_BACK_PATIENCE`` seconds after the store answered again is
        taken for gone: its claim is dropped and the refresh may go ahead (which
        Authonomy refuses unless within its grace window)."""
        if not self.enabled:
            return False
        found: tuple[str, float] | None = yield RefreshClaimed(record.id, now)
        if found is None:
            return False
        owner, seen = found
        if now - seen <= WRITE_BACK_PATIENCE:
            return True
        logger.warning("a refresh claim outlived its owner; refreshing from the stored record")
        yield DropRefreshClaim(record.id, owner)
        return False

    def save(self, record: SessionRecord, now: float, claim: str) -> Flow[str | None]:
        """Save a refreshed record under ``claim``: its cookie value, or ``None`` when the
        claim is gone. If the store fails, keep the record to write back later (the
        refresh token in the store is spent by now) and answer with its cookie value."""
        ttl = self.ttl(record, now)
        try:
            saved: str | None = yield SaveRefreshed(record, ttl, claim)
        except StoreUnavailableError as exc:
            logger.warning("a refreshed session is kept to save when the store is back: %s", exc)
            yield from self._finish_later(_Unsaved(record.id, claim, now + ttl, record))
            return record.id
        return saved

    def drop(self, record: SessionRecord, claim: str | None, now: float) -> Flow[None]:
        """Give up ``claim`` (nothing was rotated); later if the store is down."""
        if claim is None:
            return
        try:
            yield DropRefreshClaim(record.id, claim)
        except StoreUnavailableError:
            yield from self._finish_later(_Unsaved(record.id, claim, now + self.ttl(record, now)))

    def write_back(self) -> Flow[bool]:
        """Save the refreshed sessions a store failure left unsaved (and drop the claims it
        left behind); whether none remain.

        Raises :class:`StoreUnavailableError` while the store is still down.
        """
        for session_id, item in list(self._unsaved.items()):
            now = self.clock()
            if item.until > now and item.record is None:
                yield DropRefreshClaim(session_id, item.claim)
            elif item.until > now:
                saved = yield SaveRefreshed(item.record, max(1, int(item.until - now)), item.claim)
                if saved is None:
                    logger.warning("an unsaved refreshed session was superseded; not written back")
            if self._unsaved.get(session_id) is item:
                del self._unsaved[session_id]
        return not self._unsaved

    def write_back_first(self) -> Flow[None]:
        """Before reading any session, write back this process's unsaved ones: none of
        its requests may see a record whose refresh token it has spent."""
        if self._unsaved:
            yield from self.write_back()

    def _finish_later(self, item: _Unsaved) -> Flow[None]:
        """Keep ``item`` to write back when the store answers, retrying in the background."""
        self._keep(item)
        if not self._writing_back:
            self._writing_back = True
            yield Background(self._write_back_soon)

    def _keep(self, item: _Unsaved) -> None:
        earlier = self._unsaved.pop(item.session_id, None)
        if earlier is not None and earlier.record is not None and item.record is None:
            item = earlier  # a record to save outranks a claim to drop
        self._unsaved[item.session_id] = item
        while len(self._unsaved) > _UNSAVED_LIMIT:
            given_up = next(iter(self._unsaved))
            del self._unsaved[given_up]
            logger.error("too many unsaved refreshed sessions: one is given up (sign-in again)")

    def _write_back_soon(self) -> Flow[None]:
        """Retry writing back until nothing is unsaved (a background flow)."""
        try:
            while self._unsaved:
                try:
                    yield from self.write_back()
                except StoreUnavailableError:
                    yield Sleep(_WRITE_BACK_RETRY)
        finally:
            self._writing_back = False
