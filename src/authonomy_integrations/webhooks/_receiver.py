"""``WebhookReceiver``: verify a delivery, run its handlers once, answer with a status.

Outcomes (the body follows the API's envelope):

====  ==========================================================================
200   handlers succeeded; or the id was already handled (``"duplicate": true``)
400   verification failed (``WEBHOOK_VERIFICATION_FAILED``, the reason in ``details``)
409   the same id is being handled right now (``WEBHOOK_IN_PROGRESS``)
503   the replay store is full of recent ids (``REPLAY_STORE_FULL``); Authonomy retries
413   body too large (``PAYLOAD_TOO_LARGE``)
415   not ``application/json`` (``UNSUPPORTED_MEDIA_TYPE``)
500   a handler raised (``INTERNAL_ERROR``)
503   the replay store is out of reach, or a handler raised ``StoreUnavailableError``
      (``TEMPORARILY_UNAVAILABLE``, with ``Retry-After``)
====  ==========================================================================

Authonomy retries anything but a 2xx, so a concurrent duplicate gets 409 instead of
waiting: the retry arrives after the first delivery has finished and is acknowledged as
a duplicate, or runs the handlers if the first one failed. While the replay store cannot
be reached nothing is acknowledged: a delivery whose handlers ran but whose completion
could not be recorded is answered 503 too, so it is retried (handlers run at least once).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from .._config import AuthonomyConfig
from .._core.effects import Flow
from .._core.events import Events
from .._drivers import AsyncRunner, SyncRunner
from .._errors import (
    ConfigurationError,
    ReplayStoreFullError,
    StoreUnavailableError,
    WebhookVerificationError,
)
from ..stores._replay import MemoryReplayStore, RedisReplayStore, ReplayStore
from . import _outcomes as answer
from ._body import (
    DEFAULT_MAX_BODY_BYTES,
    PayloadTooLargeError,
    aread_limited,
    is_json_content_type,
    read_limited,
)
from ._delivery import (
    Claim,
    Complete,
    Handler,
    Interrupted,
    Release,
    RunHandler,
    handler_name,
    run_async,
    run_blocking,
)
from ._event import WebhookEvent
from ._outcomes import WebhookResult
from ._signature import Headers, Secret, header_pairs
from ._verifier import DEFAULT_TOLERANCE, WebhookVerifier

__all__ = ["DEFAULT_CLAIM_TTL", "Handler", "WebhookReceiver", "WebhookResult"]


H = TypeVar("H", bound=Handler)

DEFAULT_CLAIM_TTL = 60.0
"""Seconds an in-progress claim lives: handlers should finish well within it."""


def _blocking_replay(store: ReplayStore) -> dict[type, Callable[[Any], Any]]:
    """What each effect of a delivery calls on the replay store, blocking."""
    return {
        Claim: lambda e: store.claim(e.event_id, e.ttl),
        Complete: lambda e: store.complete(e.event_id),
        Release: lambda e: store.release(e.event_id),
        RunHandler: lambda e: run_blocking(e.handler, e.event),
    }


def _async_replay(store: ReplayStore) -> dict[type, Callable[[Any], Awaitable[Any]]]:
    """What each effect of a delivery awaits on the replay store."""
    return {
        Claim: lambda e: store.aclaim(e.event_id, e.ttl),
        Complete: lambda e: store.acomplete(e.event_id),
        Release: lambda e: store.arelease(e.event_id),
        RunHandler: lambda e: run_async(e.handler, e.event),
    }


def _header(headers: Headers, wanted: str) -> str | None:
    for name, value in header_pairs(headers):
        text = name.decode("latin-1") if isinstance(name, bytes) else name
        if text.lower() == wanted:
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


class WebhookReceiver:
    """Receives Authonomy webhooks: verification, idempotency and dispatch to handlers.

    Build it from a config (``WebhookReceiver(config)`` reads ``config.webhook_secrets``)
    or from a ``secret`` (a list while rotating); ``replay_store`` defaults to the
    config's (``config.replay_store``), else a per-process memory store. Register
    handlers with :meth:`on` and :meth:`on_any`, then mount an adapter's route, or call
    :meth:`handle` / :meth:`ahandle` yourself. A delivery's id is recorded as done only after every
    handler succeeded, so a failed delivery is retried by Authonomy and runs again.
    """

    def __init__(
        self,
        config: AuthonomyConfig | None = None,
        *,
        secret: Secret | Sequence[Secret] | None = None,
        replay_store: ReplayStore | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        claim_ttl: float = DEFAULT_CLAIM_TTL,
        clock: Callable[[], float] = time.time,
        events: Events | None = None,
    ) -> None:
        secrets = self._secrets(config, secret)
        if events is None:
            from .._observability import events_for

            events = events_for(config) if config is not None else Events()
        #: Where deliveries are reported: verified, rejected, duplicate, handler failed.
        self.events = events
        if max_body_bytes < 1:
            raise ConfigurationError("max_body_bytes", "must be positive")
        if claim_ttl <= 0:
            raise ConfigurationError("claim_ttl", "must be positive")
        self.verifier = WebhookVerifier(secrets, tolerance=tolerance)
        if replay_store is None and config is not None:
            replay_store = config.replay_store
        self.replay_store: ReplayStore = (
            MemoryReplayStore(window=2 * tolerance) if replay_store is None else replay_store
        )
        if isinstance(replay_store, RedisReplayStore) and config is not None:
            # Apps sharing a Redis receive the same event ids: keep each app's apart.
            replay_store.bind_audience(config.audience)
        self.max_body_bytes = max_body_bytes
        self._claim_ttl = claim_ttl
        self._clock = clock
        self._handlers: dict[str, list[Handler]] = {}
        self._catch_all: list[Handler] = []
        self._runner = SyncRunner(None, _blocking_replay(self.replay_store))
        self._arunner = AsyncRunner(None, _async_replay(self.replay_store))

    @staticmethod
    def _secrets(
        config: AuthonomyConfig | None, secret: Secret | Sequence[Secret] | None
    ) -> Sequence[Secret]:
        if secret is not None:
            return [secret] if isinstance(secret, str | bytes) else secret
        if config is not None and config.webhook_secrets:
            return config.webhook_secrets
        raise ConfigurationError(
            "webhook_secret",
            "is required to receive webhooks: pass secret= or a config that has one",
            variable="AUTHONOMY_WEBHOOK_SECRET",
        )

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Decorator: run the function for deliveries of these event types."""
        if not event_types:
            raise TypeError("on() needs at least one event type; use on_any for every event")

        def register(handler: H) -> H:
            for event_type in event_types:
                self._handlers.setdefault(event_type, []).append(handler)
            return handler

        return register

    def on_any(self, handler: H) -> H:
        """Decorator: run the function for every delivery, after the type's own handlers."""
        self._catch_all.append(handler)
        return handler

    def handlers_for(self, event_type: str) -> list[Handler]:
        """The handlers a delivery of ``event_type`` runs, in order."""
        return [*self._handlers.get(event_type, ()), *self._catch_all]

    @property
    def has_async_handlers(self) -> bool:
        """Whether any handler is a coroutine function (then only :meth:`ahandle` runs them)."""
        every = [*self._catch_all, *(h for hs in self._handlers.values() for h in hs)]
        return any(inspect.iscoroutinefunction(handler) for handler in every)

    # -- admission: everything decided before the replay store is touched ----------

    def _admit(self, headers: Headers, body: bytes) -> WebhookEvent | WebhookResult:
        early = self._refuse_early(headers)
        if early is not None:
            return early
        if len(body) > self.max_body_bytes:
            return answer.too_large(self.events, PayloadTooLargeError(self.max_body_bytes))
        try:
            event = self.verifier.verify(headers, body, now=self._clock())
        except WebhookVerificationError as exc:
            return answer.verification_failed(self.events, exc)
        return answer.verified(self.events, event)

    def _refuse_early(self, headers: Headers) -> WebhookResult | None:
        if not is_json_content_type(_header(headers, "content-type")):
            return answer.unsupported_media_type(self.events)
        return None

    # -- blocking -----------------------------------------------------------------

    def handle(
        self, headers: Headers, body: bytes, *, first: Sequence[Handler] = ()
    ) -> WebhookResult:
        """Verify and dispatch one delivery with blocking handlers.

        ``first`` run before the registered handlers, for every event type (the
        adapters' routes end sessions there on ``user.logged_out``). Raises
        ``TypeError`` when an ``async def`` handler would run: use :meth:`ahandle`.
        """
        with self.events.span("authonomy.webhook"):
            result: WebhookResult = self._runner.run(
                self._delivery(headers, body, first, blocking=True)
            )
        return result

    def _delivery(
        self, headers: Headers, body: bytes, first: Sequence[Handler], *, blocking: bool
    ) -> Flow[WebhookResult]:
        """Verify, claim the id, run the handlers, then complete (or release) the claim."""
        admitted = self._admit(headers, body)
        if isinstance(admitted, WebhookResult):
            return admitted
        handlers = [*first, *self.handlers_for(admitted.type)]
        if blocking:
            _refuse_coroutine_functions(handlers)
        try:
            state = yield Claim(admitted.id, self._claim_ttl)
        except ReplayStoreFullError as exc:
            return answer.store_full(self.events, exc)
        except StoreUnavailableError as exc:
            return answer.store_unavailable(self.events, admitted, exc)
        if state != "new":
            return answer.replayed(self.events, admitted, state)
        for handler in handlers:
            try:
                yield RunHandler(handler, admitted)
            except Exception as exc:
                # An unreleased claim expires by itself after the claim ttl.
                with suppress(StoreUnavailableError):
                    yield Release(admitted.id)
                if isinstance(exc, Interrupted):
                    raise exc.error from None
                if isinstance(exc, StoreUnavailableError):
                    # Temporary, like the replay store's: a 503 the sender retries.
                    return answer.handler_store_unavailable(self.events, admitted, handler, exc)
                return answer.handler_failed(self.events, admitted, handler, exc)
        try:
            yield Complete(admitted.id)
        except StoreUnavailableError as exc:
            return answer.store_unavailable(self.events, admitted, exc)
        return answer.received(admitted.id)

    def read_body(self, headers: Headers, chunks: Iterable[bytes]) -> bytes | WebhookResult:
        """The body from ``chunks``, or the refusal (415, 413) decided before or while reading.

        ``Content-Length`` is checked first and reading stops once the limit is passed.
        """
        early = self._refuse_early(headers)
        if early is not None:
            return early
        declared = _header(headers, "content-length")
        try:
            return read_limited(chunks, self.max_body_bytes, content_length=declared)
        except PayloadTooLargeError as exc:
            return answer.too_large(self.events, exc)

    def handle_stream(
        self, headers: Headers, chunks: Iterable[bytes], *, first: Sequence[Handler] = ()
    ) -> WebhookResult:
        """:meth:`handle` for a body still to be read, refused early when too large."""
        body = self.read_body(headers, chunks)
        if isinstance(body, WebhookResult):
            return body
        return self.handle(headers, body, first=first)

    # -- asynchronous ----------------------------------------------------------------

    async def ahandle(
        self, headers: Headers, body: bytes, *, first: Sequence[Handler] = ()
    ) -> WebhookResult:
        """Verify and dispatch one delivery; blocking handlers run in a worker thread.

        ``first`` run before the registered handlers, as in :meth:`handle`.
        """
        with self.events.span("authonomy.webhook"):
            result: WebhookResult = await self._arunner.run(
                self._delivery(headers, body, first, blocking=False)
            )
        return result

    async def aread_body(
        self, headers: Headers, chunks: AsyncIterable[bytes]
    ) -> bytes | WebhookResult:
        """The asynchronous twin of :meth:`read_body`, for ASGI request streams."""
        early = self._refuse_early(headers)
        if early is not None:
            return early
        declared = _header(headers, "content-length")
        try:
            return await aread_limited(chunks, self.max_body_bytes, content_length=declared)
        except PayloadTooLargeError as exc:
            return answer.too_large(self.events, exc)

    async def ahandle_stream(
        self, headers: Headers, chunks: AsyncIterable[bytes], *, first: Sequence[Handler] = ()
    ) -> WebhookResult:
        """:meth:`ahandle` for a body still to be read, refused early when too large."""
        body = await self.aread_body(headers, chunks)
        if isinstance(body, WebhookResult):
            return body
        return await self.ahandle(headers, body, first=first)


def _refuse_coroutine_functions(handlers: Iterable[Handler]) -> None:
    for handler in handlers:
        if inspect.iscoroutinefunction(handler):
            raise TypeError(
                f"webhook handler {handler_name(handler)} is async; "
                "call WebhookReceiver.ahandle (or use an async framework route) to run it"
            )
