"""Every decision the kit makes, as one kind of value: :class:`AuthEvent`.

The engine, the routes, the API flows and the webhook receiver report what they decided
to an :class:`Events` object. It writes one log line per event under an
``authonomy_integrations.<area>`` logger, calls ``config.on_event``, and hands the event
to a :class:`Telemetry` (OpenTelemetry spans and metrics, see
:mod:`authonomy_integrations._observability`) when one is installed.

Nothing is built when nobody listens: :meth:`Events.emit` first asks the area's logger
whether the event's level is on, and there is no hook and no telemetry. Events never
carry tokens, secrets or session ids, nor a control character (text from a request is
escaped, see :mod:`.log_text`); :func:`short_hash` names a session when one must be
told apart from another. The reason codes events carry are worked out in :mod:`.reasons`
(importable from here too).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from .log_text import clean, clean_value, field_value
from .reasons import login_reason, reason_code, token_reason

__all__ = [
    "API_CALL",
    "CALLBACK_REFUSED",
    "EVENT_NAMES",
    "KEYS_FAILED",
    "KEYS_FETCHED",
    "LOGIN_COMPLETED",
    "LOGIN_FAILED",
    "LOGIN_STARTED",
    "LOG_ONLY",
    "POLICY_FAILED",
    "POLICY_PASSED",
    "REFRESH_FAILED",
    "REPEAT",
    "SESSION_CREATED",
    "SESSION_ENDED",
    "SESSION_REFRESHED",
    "STEP_UP_STARTED",
    "TOKEN_ACCEPTED",
    "TOKEN_REFUSED",
    "WEBHOOK_DUPLICATE",
    "WEBHOOK_HANDLER_FAILED",
    "WEBHOOK_REJECTED",
    "WEBHOOK_VERIFIED",
    "AuthEvent",
    "Count",
    "Events",
    "Span",
    "Telemetry",
    "login_reason",
    "reason_code",
    "short_hash",
    "token_reason",
]

LOGIN_STARTED = "login.started"
LOGIN_COMPLETED = "login.completed"
LOGIN_FAILED = "login.failed"
CALLBACK_REFUSED = "callback.refused"
TOKEN_ACCEPTED = "token.accepted"
TOKEN_REFUSED = "token.refused"
SESSION_CREATED = "session.created"
SESSION_REFRESHED = "session.refreshed"
SESSION_ENDED = "session.ended"
REFRESH_FAILED = "refresh.failed"
KEYS_FETCHED = "keys.fetched"
KEYS_FAILED = "keys.failed"
POLICY_PASSED = "policy.passed"
POLICY_FAILED = "policy.failed"
STEP_UP_STARTED = "step_up.started"
WEBHOOK_VERIFIED = "webhook.verified"
WEBHOOK_REJECTED = "webhook.rejected"
WEBHOOK_DUPLICATE = "webhook.duplicate"
WEBHOOK_HANDLER_FAILED = "webhook.handler_failed"
API_CALL = "api.call"

_D, _I, _W, _E = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR

#: Each event's logger area and usual level. Refusals anyone can cause (a bad token, a
#: forged callback) stay at INFO so a flood of them cannot fill the warnings.
_TABLE: dict[str, tuple[str, int]] = {
    LOGIN_STARTED: ("login", _I),
    LOGIN_COMPLETED: ("login", _I),
    LOGIN_FAILED: ("login", _I),
    CALLBACK_REFUSED: ("login", _I),
    STEP_UP_STARTED: ("login", _I),
    TOKEN_ACCEPTED: ("tokens", _I),
    TOKEN_REFUSED: ("tokens", _I),
    SESSION_CREATED: ("sessions", _I),
    SESSION_REFRESHED: ("sessions", _I),
    SESSION_ENDED: ("sessions", _I),
    REFRESH_FAILED: ("sessions", _W),
    KEYS_FETCHED: ("keys", _I),
    KEYS_FAILED: ("keys", _W),
    POLICY_PASSED: ("policies", _D),
    POLICY_FAILED: ("policies", _I),
    WEBHOOK_VERIFIED: ("webhooks", _I),
    WEBHOOK_REJECTED: ("webhooks", _W),
    WEBHOOK_DUPLICATE: ("webhooks", _I),
    WEBHOOK_HANDLER_FAILED: ("webhooks", _E),
    API_CALL: ("api", _D),
}

#: The stable event names.
EVENT_NAMES = frozenset(_TABLE)

#: An event's name and reason, the key its occurrences are counted under.
Count = tuple[str, str | None]
#: A verified token answered from memory again: counted, never a hook call or span.
REPEAT: Count = (TOKEN_ACCEPTED, "cached")

_LOGGERS = {
    name: logging.getLogger(f"authonomy_integrations.{area}") for name, (area, _) in _TABLE.items()
}
_hook_logger = logging.getLogger("authonomy_integrations.events")


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One decision of the kit.

    ``name`` is one of the stable names (``"token.refused"`` ...); ``reason`` a short code
    (``"expired"``, ``"bad_signature"``) where the decision has one; ``duration`` the
    seconds the step took, where it is timed. ``fields`` holds the rest (``policy``,
    ``failed``, ``endpoint``, ``status``, ``retries``, ``session`` as a short hash ...).
    No field ever holds a token, a secret or a whole session id.
    """

    name: str
    reason: str | None = None
    user_id: str | None = None
    customer_id: str | None = None
    duration: float | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def level(self) -> int:
        """The logging level this event is written at, unless the emitter chose another."""
        return _TABLE[self.name][1]


class Span(Protocol):
    """What the core may do with a span it opened: add attributes."""

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute on the span."""


class Telemetry(Protocol):
    """A sink beyond logs and the hook: spans around flows, metrics from events."""

    def record(self, event: AuthEvent) -> None:
        """Count the event (and record its duration, if any)."""

    def span(self, name: str, attributes: Mapping[str, Any]) -> Any:
        """A context manager around one step, yielding a :class:`Span`."""


class _NoSpan:
    def set_attribute(self, key: str, value: Any) -> None:
        """Nothing to set: no telemetry is installed."""


_NO_SPAN = _NoSpan()


@contextmanager
def _no_span() -> Iterator[Span]:
    yield _NO_SPAN


def short_hash(value: str) -> str:
    """Twelve hex digits naming ``value`` (a session id) without revealing it."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


def _line(event: AuthEvent) -> str:
    """The event's log line: ``name key=value ...``, each value one quoted word at most."""
    parts = [event.name]
    if event.reason:
        parts.append(f"reason={field_value(event.reason)}")
    if event.user_id:
        parts.append(f"user={field_value(event.user_id)}")
    if event.customer_id:
        parts.append(f"customer={field_value(event.customer_id)}")
    if event.duration is not None:
        parts.append(f"duration={event.duration * 1000:.1f}ms")
    parts.extend(f"{key}={field_value(value)}" for key, value in event.fields.items())
    return " ".join(parts)


class Events:
    """Where the core reports decisions: the log, ``on_event``, and telemetry.

    ``hook`` is called synchronously in the thread or task that decided, so it sees the
    request's context; one that raises is logged at ERROR and the request goes on.

    A repeat (a verified token answered from memory again) is no decision: it is only
    counted in :attr:`repeats` (and so in :attr:`counts`), which telemetry reads when it
    collects and the log writes in aggregate at DEBUG, so a busy app pays an increment
    per repeat whoever listens.
    """

    __slots__ = ("__weakref__", "_decided", "_logged", "hook", "listening", "repeats", "telemetry")

    def __init__(
        self,
        hook: Callable[[AuthEvent], None] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.hook = hook
        self.telemetry = telemetry
        #: Whether a sink other than the log wants every event: checked first, so the
        #: quiet case costs one attribute read and the logger's cached level check.
        self.listening = hook is not None or telemetry is not None
        #: Decisions counted by name and reason since start-up.
        self._decided: defaultdict[Count, int] = defaultdict(int)
        #: Repeats counted since start-up: a plain attribute, the cheapest increment
        #: there is, as every repeat request makes one.
        self.repeats = 0
        #: How many of the counted repeats the log has been told of.
        self._logged = 0

    def wants(self, name: str, level: int | None = None) -> bool:
        """Whether an event ``name`` at ``level`` would reach any sink."""
        if self.listening:
            return True
        return _LOGGERS[name].isEnabledFor(_TABLE[name][1] if level is None else level)

    def emit(
        self,
        name: str,
        reason: str | None = None,
        *,
        user_id: str | None = None,
        customer_id: str | None = None,
        duration: float | None = None,
        level: int | None = None,
        exc_info: BaseException | None = None,
        **fields: Any,
    ) -> None:
        """Report one decision to every sink that listens (nothing is built otherwise)."""
        logger = _LOGGERS[name]
        level = _TABLE[name][1] if level is None else level
        logged = logger.isEnabledFor(level)
        if not (logged or self.listening):
            return
        if self.repeats != self._logged:
            self.log_repeats()
        # Text from requests may reach any field: none may carry a control character
        # into a log line, a hook or a span (see ``log_text``).
        event = AuthEvent(
            name,
            None if reason is None else clean(reason),
            None if user_id is None else clean(user_id),
            None if customer_id is None else clean(customer_id),
            duration,
            MappingProxyType({k: clean_value(v) for k, v in fields.items() if v is not None}),
        )
        self._decided[(name, event.reason)] += 1
        if logged:
            logger.log(level, "%s", _line(event), exc_info=exc_info, extra=_extra(event))
        if self.telemetry is not None:
            self._guarded(self.telemetry.record, event, "telemetry")
        if self.hook is not None:
            self._guarded(self.hook, event, "on_event hook")

    def count(self, key: Count) -> None:
        """Count one more ``key`` (an event's name and reason) without reporting it."""
        self._decided[key] += 1

    @property
    def counts(self) -> dict[Count, int]:
        """Every event counted by name and reason since start-up, repeats included
        (under :data:`REPEAT`): a copy, taken when asked."""
        counted = dict(self._decided)
        if self.repeats:
            counted[REPEAT] = self.repeats
        return counted

    def log_repeats(self) -> None:
        """Write the repeats counted since the last call as one DEBUG line
        (``token.accepted reason=cached repeats=N``), when the tokens logger is at DEBUG:
        a repeat is told in aggregate, never a line per request."""
        total = self.repeats
        new = total - self._logged
        logger = _LOGGERS[TOKEN_ACCEPTED]
        if new > 0 and logger.isEnabledFor(logging.DEBUG):
            self._logged = total
            logger.debug("%s reason=%s repeats=%d", *REPEAT, new, extra={"authonomy_repeats": new})

    @staticmethod
    def _guarded(sink: Callable[[AuthEvent], Any], event: AuthEvent, what: str) -> None:
        try:
            sink(event)
        except Exception:
            # An observer's fault must never become the user's: log it, go on.
            _hook_logger.exception("%s failed on %s", what, event.name)

    def span(self, name: str, **attributes: Any) -> Any:
        """A context manager around one step: an OpenTelemetry span when telemetry is
        installed, else nothing at all."""
        if self.telemetry is None:
            return _no_span()
        attrs = {k: v for k, v in attributes.items() if v is not None}
        return self.telemetry.span(name, attrs)


def _extra(event: AuthEvent) -> dict[str, Any]:
    """The event as ``LogRecord`` attributes, for structured log handlers."""
    return {
        "authonomy_event": event.name,
        "authonomy_reason": event.reason,
        "authonomy_user_id": event.user_id,
        "authonomy_customer_id": event.customer_id,
        "authonomy_duration": event.duration,
        "authonomy_fields": dict(event.fields),
    }


#: Events reported to the log only: the default of flows built without an emitter.
LOG_ONLY = Events()
