"""``CookieSessionStore``: the whole session sealed into the cookie itself."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager

from .._core.crypto import SecretBox
from .._core.sessions import SessionRecord
from .._errors import ConfigurationError, SessionTooLargeError
from ._base import AsyncKeyedLocks, KeyedLocks, ProcessLocalStore, compress, decompress

__all__ = ["CookieSessionStore"]

#: Wall-clock deadline sealed with the record: a cookie is useless after its ttl even
#: if the browser (or a thief) keeps it.
_DEADLINE = struct.Struct("<d")


class CookieSessionStore(ProcessLocalStore):
    """Sessions sealed (AES-256-GCM) into the cookie: no server-side state at all.

    ``secrets`` are newest first; a cookie sealed with an older one still loads, so a
    secret can be rotated without logging users out. The cookie holds the access and
    refresh tokens, so it must fit in ``max_bytes`` (browsers cap a cookie near 4096
    bytes, name and attributes included): a larger session raises
    :class:`~.._errors.SessionTooLargeError` telling you to use a server-side store
    (``RedisSessionStore`` or ``MemorySessionStore``). At the login callback that ends
    the sign-in with a clear error page and revokes the tokens just issued; on a
    refresh it ends the session. Sessions grow with the access token: many groups or
    long claims are what push them past the limit.

    The store itself cannot revoke a cookie: :meth:`delete` is a no-op. Logging out
    clears the cookie, revokes the refresh token at Authonomy, and the engine refuses
    the ended session's cookie in this process for the rest of its lifetime; another
    process running the same app accepts a copied cookie until its access token is
    due for refresh, which then fails. Use a server-side store where that matters.
    Locks are per process. A cookie value never changes meaning, so the engine may
    reuse its decoded session for ``local_cache_ttl`` seconds.

    The ciphertext is bound to the audience of the app the store serves (associated
    data; the middleware or extension binds it at start-up, or pass ``audience=``), so
    two apps sharing a secret cannot open each other's cookies; one store object serves
    one app.

    It offers :class:`~._base.SessionStore` and declares no optional ability: its
    sessions live in browsers, so it lists no user's sessions (``end_sessions`` and
    "sign out everywhere" find none here) and counts login starts per process.
    """

    def __init__(
        self,
        secrets: str | Sequence[str],
        purpose: str = "session",
        max_bytes: int = 3800,
        *,
        audience: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._box = SecretBox((secrets,) if isinstance(secrets, str) else secrets, purpose)
        self._audience = audience
        self.max_bytes = max_bytes
        self._clock = clock
        self._locks = KeyedLocks()
        self._alocks = AsyncKeyedLocks()

    def bind_audience(self, audience: str) -> None:
        """Serve the app whose tokens carry ``audience`` (called when the app starts)."""
        if self._audience not in (None, audience):
            raise ConfigurationError(
                "session_store",
                f"this CookieSessionStore already serves the app {self._audience!r}; "
                "give each app its own store",
            )
        self._audience = audience

    def _associated_data(self) -> bytes:
        return b"aud:" + self._audience.encode("utf-8") if self._audience is not None else b""

    def save(self, record: SessionRecord, ttl: int) -> str:
        """The sealed record to set as the cookie, valid for ``ttl`` seconds."""
        plain = _DEADLINE.pack(self._clock() + ttl) + record.to_bytes()
        sealed = self._box.seal(compress(plain), self._associated_data())
        if len(sealed) > self.max_bytes:
            raise SessionTooLargeError(
                f"the session is {len(sealed)} bytes sealed, more than the {self.max_bytes} "
                "that fit in one cookie (large tokens or many groups?); use a server-side "
                "session store such as RedisSessionStore or MemorySessionStore"
            )
        return sealed

    def load(self, cookie_value: str) -> SessionRecord | None:
        """The record sealed in the cookie; ``None`` if forged, garbled or expired."""
        opened = self._box.open(cookie_value, self._associated_data())
        plain = decompress(opened) if opened is not None else None
        if plain is None or len(plain) < _DEADLINE.size:
            return None
        if _DEADLINE.unpack_from(plain)[0] <= self._clock():
            return None
        return SessionRecord.from_bytes(plain[_DEADLINE.size :])

    def delete(self, cookie_value: str) -> None:
        """Nothing to forget on the server; the adapter clears the cookie."""

    # Sealing a few KB is CPU work of microseconds; nothing here waits on I/O.
    async def asave(self, record: SessionRecord, ttl: int) -> str:
        """Same as :meth:`save`."""
        return self.save(record, ttl)

    async def aload(self, cookie_value: str) -> SessionRecord | None:
        """Same as :meth:`load`."""
        return self.load(cookie_value)

    async def adelete(self, cookie_value: str) -> None:
        """Same as :meth:`delete`."""

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """This process's lock for the session, for threads."""
        return self._locks.hold(session_id)

    def alock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """This process's lock for the session, for tasks."""
        return self._alocks.hold(session_id)
