"""What the observability tests capture: log records, hook calls, spans and metrics.

OpenTelemetry's providers are process-wide and settable once; each test sets fresh SDK
providers with in-memory exporters before its app is built, and puts the globals back
afterwards so later tests see an app without a provider.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from authonomy_integrations._core.events import AuthEvent
from authonomy_integrations.sandbox import Sandbox

#: A framework's own log of each request it answered with an error, as an access log
#: would show it: the request line, query string included. Not the kit's report, and
#: not the kit's to silence (Django logs every 4xx and 5xx response of its views).
FRAMEWORK_REQUEST_LOGGERS = {"django.request"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _reset_globals() -> None:
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None


@dataclass
class Captured:
    """Everything the kit reported during one test."""

    caplog: pytest.LogCaptureFixture
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    hooked: list[AuthEvent] = field(default_factory=list)

    def hook(self, event: AuthEvent) -> None:
        self.hooked.append(event)

    def records(self, name: str) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if getattr(r, "authonomy_event", None) == name]

    def events(self, name: str) -> list[AuthEvent]:
        return [e for e in self.hooked if e.name == name]

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        found.extend(item.data.data_points)
        return found

    def counted(self, name: str, reason: str | None = None) -> int:
        total = 0
        for point in self.points("authonomy.events"):
            attributes = dict(point.attributes)
            if attributes.get("authonomy.event") != name:
                continue
            if reason is not None and attributes.get("authonomy.reason") != reason:
                continue
            total += point.value
        return total

    def expect(self, name: str, reason: str | None = None, **fields: Any) -> AuthEvent:
        """Assert the event reached every sink: a log record, the hook, the counter, and
        a span event; return the hook's copy."""
        hooked = [
            e
            for e in self.events(name)
            if (reason is None or e.reason == reason)
            and all(e.fields.get(key) == value for key, value in fields.items())
        ]
        seen = [(e.name, e.reason, dict(e.fields)) for e in self.hooked]
        assert hooked, f"no {name} ({reason}, {fields}) in {seen}"
        event = hooked[-1]
        records = [r for r in self.records(name) if r.authonomy_fields == dict(event.fields)]
        assert records, f"no log record of {name}"
        record = records[-1]
        assert record.name.startswith("authonomy_integrations.")
        assert record.getMessage().startswith(name)
        assert record.authonomy_reason == event.reason
        assert self.counted(name, reason) >= 1
        return event

    def everything(self) -> str:
        """All captured output as text, to search for secrets."""
        parts: list[str] = []
        for record in self.caplog.records:
            if record.name in FRAMEWORK_REQUEST_LOGGERS:
                continue
            parts.append(record.getMessage())
            parts.append(repr(record.__dict__))
        parts.extend(repr(event) for event in self.hooked)
        for span in self.spans.get_finished_spans():
            parts.append(span.name)
            parts.append(repr(dict(span.attributes or {})))
            parts.extend(f"{e.name} {dict(e.attributes or {})}" for e in span.events)
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    parts.extend(repr(dict(p.attributes)) for p in item.data.data_points)
        return "\n".join(parts)

    def assert_free_of(self, *secrets: str | None) -> None:
        text = self.everything()
        for secret in secrets:
            if secret:
                assert secret not in text, f"a secret ({secret[:6]}...) was reported"


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Fresh OpenTelemetry SDK providers with in-memory exporters, and logs at DEBUG."""
    with capturing(caplog) as capture:
        yield capture


@contextmanager
def capturing(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Fresh OpenTelemetry SDK providers with in-memory exporters, and logs at DEBUG."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    _reset_globals()
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    caplog.set_level(logging.DEBUG, "authonomy_integrations")
    try:
        yield Captured(caplog, exporter, reader)
        # Spans opened inside flows are closed in the context that opened them.
        troubles = [r for r in caplog.records if r.name.startswith("opentelemetry")]
        assert not troubles, [r.getMessage() for r in troubles]
    finally:
        _reset_globals()
        tracer_provider.shutdown()
        meter_provider.shutdown()
