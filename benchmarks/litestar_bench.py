"""``python -m benchmarks.litestar_bench [--quick] [--loops N] [--requests N]``: the Litestar
plugin's cost per request as CPU time, against a bare Litestar app.

As :mod:`benchmarks.cpu_bench`: each app is called directly (ASGI, no server) with a
repeat bearer token, the variants interleaved, the best of ``--loops`` loops of
``--requests`` requests kept, in CPU time of the measuring thread (``time.thread_time``),
which a busy machine disturbs far less than wall time. Every timed loop starts after a
full ``gc.collect()``, so that no loop pays for the garbage of the one before.

The target is bare / kit >= 0.90 for a repeat bearer token. Two bare variants separate
Litestar's own costs from the kit's: a route with a pure ASGI middleware that does
nothing (Litestar adds an exception-handling layer to any route with middleware, which
the plugin's middleware pays too), and a route with a guard that passes everyone (what
Litestar's guard machinery costs before any guard checks). Prints one JSON object:
microseconds per request by variant, and the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import Any

from litestar import Litestar, get
from litestar.types import ASGIApp, Receive, Scope, Send

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.litestar import AuthonomyPlugin, login_required
from authonomy_integrations.sandbox import Sandbox

from ._world import build_world
from .cpu_bench import Clock, Loop, _asgi_loop


async def _no_op_guard(connection: Any, handler: Any) -> None:
    """A guard that passes everyone: what any Litestar guard costs before it checks."""


class _NoOpMiddleware:
    """A pure ASGI middleware that only calls the route: Litestar's cost per middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _litestar(
    config: AuthonomyConfig | None, clock: Clock, *, guarded: bool, no_op_middleware: bool = False
) -> Any:
    guard = login_required if config is not None else _no_op_guard

    @get("/x", guards=[guard] if guarded else None)
    async def answer() -> str:
        return "ok"

    plugins = [AuthonomyPlugin(config=config, clock=clock)] if config is not None else []
    middleware = [_NoOpMiddleware] if no_op_middleware else []
    return Litestar([answer], plugins=plugins, middleware=middleware, logging_config=None)


def _variants(config: AuthonomyConfig, token: str, clock: Clock) -> dict[str, Loop]:
    def loop(config: AuthonomyConfig | None, **options: bool) -> Loop:
        return _asgi_loop(_litestar(config, clock, **options), token)

    return {
        "litestar bare": loop(None, guarded=False),
        "litestar bare + no-op middleware": loop(None, guarded=False, no_op_middleware=True),
        "litestar bare + no-op guard": loop(None, guarded=True),
        "litestar bare + no-op middleware + no-op guard": loop(
            None, guarded=True, no_op_middleware=True
        ),
        "litestar kit": loop(config, guarded=False),
        "litestar kit + login_required": loop(config, guarded=True),
    }


def _best(variants: dict[str, Loop], loops: int, requests: int) -> dict[str, float]:
    """The best loop of each variant, the variants interleaved, each loop after a full
    collection (a collection left over from another variant's garbage is not charged)."""
    for many in variants.values():  # the first request verifies the token
        many(200)
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(loops):
        for name, many in variants.items():
            gc.collect()
            best[name] = min(best[name], many(requests))
    return best


def _ratios(best: dict[str, float]) -> dict[str, float]:
    bare, kit = best["litestar bare"], best["litestar kit"]
    middleware = best["litestar bare + no-op middleware"]
    guarded, both = best["litestar bare + no-op guard"], best["litestar kit + login_required"]
    both_bare = best["litestar bare + no-op middleware + no-op guard"]
    return {
        "ratio: kit / bare": round(bare / kit, 3),
        "ratio: kit + login_required / bare": round(bare / both, 3),
        "ratio: kit + login_required / bare + no-op guard": round(guarded / both, 3),
        "ratio: bare + no-op middleware / bare": round(bare / middleware, 3),
        "ratio: bare + no-op guard / bare": round(bare / guarded, 3),
        "ratio: kit / bare + no-op middleware": round(middleware / kit, 3),
        "ratio: kit + login_required / bare + no-op middleware + no-op guard": round(
            both_bare / both, 3
        ),
    }


def measure(loops: int, requests: int) -> dict[str, float]:
    """Best CPU microseconds per request of each variant, and the bare / kit ratios."""
    with Sandbox() as sb:
        world = build_world(sb, fresh_pool=1)
        variants = _variants(world.memory_config, world.token, sb.state.clock.now)
        best = _best(variants, loops, requests)
    return {**best, **_ratios(best)}


def main(argv: list[str]) -> None:
    """Measure and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.litestar_bench")
    parser.add_argument("--quick", action="store_true", help="3 loops of 100 requests")
    parser.add_argument("--loops", type=int, default=40)
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args(argv)
    loops, requests = (3, 100) if args.quick else (args.loops, args.requests)
    print(json.dumps(measure(loops, requests), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
