"""What each observability sink costs on the fast path: a repeat bearer token, Starlette.

``python -m benchmarks.observability_bench [--quick]``

Variants: no sink (the default), an ``on_event`` hook that does nothing, the tokens
logger at DEBUG into a handler that drops records, and the OpenTelemetry SDK with an
in-memory metric reader and span exporter. The OpenTelemetry providers are set only
after the other apps have been built, so only the last variant sees them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from typing import Any

from starlette.middleware import Middleware

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware

from ._asgi import Client, http_scope
from ._harness import SuiteResult, Variant, finish, measure, median_of, rows
from ._world import build_world
from .asgi_bench import BARE, starlette_app

OFF = "kit: repeat token, no sink"
HOOK = "kit: repeat token, on_event hook"
DEBUG = "kit: repeat token, tokens logger at DEBUG"
OTEL = "kit: repeat token, OpenTelemetry SDK"
GROUP = "observability: starlette, repeat bearer token"
N = 10_000


def _ignore(event: Any) -> None:
    """A hook that does nothing: the cost measured is the kit's."""


def _otel() -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def main(argv: list[str]) -> None:
    """Time the repeat bearer token with each sink on."""
    from ._harness import Settings

    settings = Settings.from_argv(argv)
    result = SuiteResult(suite="observability")
    tokens = logging.getLogger("authonomy_integrations.tokens")
    with Sandbox() as sb, asyncio.Runner() as runner:
        world = build_world(sb)

        def client(config: Any) -> Client:
            app = starlette_app([Middleware(AuthonomyMiddleware, config=config)])
            made = Client(app, [http_scope(bearer=world.token)])
            status, _ = runner.run(made.probe())  # builds the middleware now
            assert status == 200
            return made

        clients = {
            BARE: Client(starlette_app(), [http_scope(bearer=world.token)]),
            OFF: client(world.memory_config),
            HOOK: client(dataclasses.replace(world.memory_config, on_event=_ignore)),
        }
        tokens.addHandler(logging.NullHandler())
        tokens.setLevel(logging.DEBUG)
        tokens.propagate = False
        clients[DEBUG] = client(world.memory_config)
        tokens.setLevel(logging.NOTSET)
        _otel()
        clients[OTEL] = client(world.memory_config)
        # DEBUG stays on only while its variant runs: the others must not pay for it.
        variants = [
            Variant(
                name,
                lambda n, c=c, name=name: _timed(runner, c, n, tokens if name == DEBUG else None),
                N,
            )
            for name, c in clients.items()
        ]
        samples = measure(variants, settings)
        result.rows += rows(GROUP, samples, BARE)
        bare = median_of(result.rows, GROUP, BARE)
        off = median_of(result.rows, GROUP, OFF)
        for name in (HOOK, DEBUG, OTEL):
            row = median_of(result.rows, GROUP, name)
            result.notes.append(
                f"{name}: +{row.median_us - off.median_us:.2f} µs per request over no sink"
            )
        # The target itself (the starlette suite's) is checked there, on "no sink".
        result.notes.append(
            f"{OFF}: ratio {off.ratio:.3f} (+{off.median_us - bare.median_us:.2f} µs over bare)"
        )
    finish(result, argv)


def _timed(runner: asyncio.Runner, client: Client, n: int, debug: logging.Logger | None) -> int:
    if debug is not None:
        debug.setLevel(logging.DEBUG)
    try:
        elapsed: int = runner.run(client.timed(n))
    finally:
        if debug is not None:
            debug.setLevel(logging.NOTSET)
    return elapsed


if __name__ == "__main__":
    main(sys.argv[1:])
