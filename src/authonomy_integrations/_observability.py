"""The kit's events as OpenTelemetry spans and metrics (the ``otel`` extra).

:func:`events_for` builds the :class:`~authonomy_integrations._core.events.Events` a
runtime or webhook receiver reports to: always the log and ``config.on_event``, and
OpenTelemetry when ``opentelemetry-api`` is installed and a tracer or meter provider has
been set (configure OpenTelemetry before creating the middleware or extension). Without
a provider nothing is added, so a quiet app pays nothing.

Spans: ``authonomy.login``, ``authonomy.callback``, ``authonomy.refresh``,
``authonomy.keys.fetch``, ``authonomy.webhook``, and one client span per Authonomy API
call (named by its method, with ``http.request.method``, ``url.full`` without the query,
``server.address``, ``http.response.status_code``). Each event is also a span event on
the current span. Metrics:

- ``authonomy.events`` (observable counter, read when metrics are collected): attributes
  ``authonomy.event`` and ``authonomy.reason``; it counts repeats too (a verified token
  answered from memory: ``token.accepted`` with reason ``cached``), which are neither
  hook calls nor span events;
- ``authonomy.operation.duration`` (histogram, s): each span's length, by
  ``authonomy.operation`` and ``error.type``;
- ``http.client.request.duration`` (histogram, s): Authonomy API calls, with the
  semantic conventions' attributes.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ._config import AuthonomyConfig
from ._core.events import API_CALL, AuthEvent, Events, Span

__all__ = ["OpenTelemetry", "events_for", "otel_configured"]

_SCOPE = "authonomy_integrations"
#: Event fields that become span-event attributes under these semantic names.
_FIELD_NAMES = {
    "method": "http.request.method",
    "endpoint": "url.path",
    "server": "server.address",
    "status": "http.response.status_code",
    "error": "error.type",
}


def otel_configured() -> bool:
    """Whether ``opentelemetry-api`` is installed and a tracer or meter provider is set."""
    if importlib.util.find_spec("opentelemetry") is None:
        return False
    from opentelemetry import metrics, trace

    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    quiet = {"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider"}
    quiet.add("NoOpMeterProvider")
    return type(tracer_provider).__name__ not in quiet or (
        type(meter_provider).__name__ not in quiet
    )


def events_for(config: AuthonomyConfig | None) -> Events:
    """The events of an app with ``config``: logs, its ``on_event`` hook, OpenTelemetry
    (``None``: an API client without a configuration, logs and OpenTelemetry only)."""
    telemetry = OpenTelemetry() if otel_configured() else None
    events = Events(config.on_event if config is not None else None, telemetry)
    if telemetry is not None:
        telemetry.counts(events)
    return events


class _Tally:
    """The one ``authonomy.events`` counter of a meter provider, observed at collection
    from the counts of every :class:`Events` still alive that reports to it (one per
    runtime, webhook receiver, API client), so a repeat costs an increment, not a call."""

    def __init__(self, meter: Any) -> None:
        self.sources: weakref.WeakSet[Events] = weakref.WeakSet()
        self.lock = threading.Lock()
        meter.create_observable_counter(
            "authonomy.events",
            callbacks=[self.observe],
            unit="{event}",
            description="Decisions of the Authonomy kit, and repeats answered from memory",
        )

    def observe(self, options: Any) -> Iterable[Any]:
        """The running totals by event and reason, summed over every source."""
        from opentelemetry.metrics import Observation

        totals: dict[tuple[str, str | None], int] = {}
        with self.lock:
            sources = list(self.sources)
        for events in sources:
            for key, count in list(events.counts.items()):
                totals[key] = totals.get(key, 0) + count
        for (name, reason), total in totals.items():
            attributes = {"authonomy.event": name}
            if reason:
                attributes["authonomy.reason"] = reason
            yield Observation(total, attributes)


#: Each meter provider's counter: registered once, however many apps report to it.
_TALLIES: weakref.WeakKeyDictionary[Any, _Tally] = weakref.WeakKeyDictionary()
_TALLIES_LOCK = threading.Lock()


def _tally(provider: Any) -> _Tally:
    with _TALLIES_LOCK:
        tally = _TALLIES.get(provider)
        if tally is None:
            tally = _TALLIES[provider] = _Tally(provider.get_meter(_SCOPE))
        return tally


class OpenTelemetry:
    """Spans and metrics through the global OpenTelemetry providers."""

    def __init__(self) -> None:
        from opentelemetry import metrics, trace

        self._trace = trace
        self.tracer = trace.get_tracer(_SCOPE)
        self._provider = metrics.get_meter_provider()
        meter = self._provider.get_meter(_SCOPE)
        self.operations = meter.create_histogram(
            "authonomy.operation.duration",
            unit="s",
            description="Duration of logins, callbacks, refreshes, key fetches, webhooks",
        )
        self.http_duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
        )

    def counts(self, events: Events) -> None:
        """Export what ``events`` counts (decisions and repeats) as ``authonomy.events``."""
        tally = _tally(self._provider)
        with tally.lock:
            tally.sources.add(events)

    def record(self, event: AuthEvent) -> None:
        """Time API calls and note the event on the current span (the event is counted
        by :class:`Events` itself, see :meth:`counts`)."""
        if event.name == API_CALL and event.duration is not None:
            self.http_duration.record(event.duration, _http_attributes(event.fields))
        span = self._trace.get_current_span()
        if span.is_recording():
            span.add_event(event.name, _span_event_attributes(event))

    @contextmanager
    def span(self, name: str, attributes: Mapping[str, Any]) -> Iterator[Span]:
        """A span around one step, current while it runs; its length is recorded."""
        client = "http.request.method" in attributes
        kind = self._trace.SpanKind.CLIENT if client else self._trace.SpanKind.INTERNAL
        started = time.perf_counter()
        error: str | None = None
        try:
            with self.tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:
                yield span
        except BaseException as exc:
            error = type(exc).__qualname__
            raise
        finally:
            if not client:
                measured = {"authonomy.operation": name}
                if error is not None:
                    measured["error.type"] = error
                self.operations.record(time.perf_counter() - started, measured)


def _http_attributes(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        _FIELD_NAMES[key]: fields[key]
        for key in ("method", "server", "status", "error")
        if key in fields
    }


def _span_event_attributes(event: AuthEvent) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if event.reason:
        attributes["authonomy.reason"] = event.reason
    if event.user_id:
        attributes["enduser.id"] = event.user_id
    if event.customer_id:
        attributes["authonomy.customer_id"] = event.customer_id
    if event.duration is not None:
        attributes["authonomy.duration"] = event.duration
    for key, value in event.fields.items():
        name = _FIELD_NAMES.get(key, key if "." in key else f"authonomy.{key}")
        attributes[name] = _attribute_value(value)
    return attributes


def _attribute_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)
