"""``python -m benchmarks.litestar_bench [--quick] [--loops N] [--requests N]``: the Litestar
plugin's cost per request as CPU time, against a bare Litestar app.

As :mod:`benchmarks.cpu_bench`: each app is called directly (ASGI, no server) with a
repeat bearer token, the variants interleaved, the best of ``--loops`` loops of
``--requests`` requests kept, in CPU time of the measuring thread (``time.thread_time``),
which a busy machine disturbs far less than wall time. The target is bare / kit >= 0.90
for the plugin with ``login_required`` on the route; a bare app with a guard that passes
everyone shows what Litestar's guard machinery costs by itself. Prints one JSON object: microseconds
per request by variant, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from litestar import Litestar, get

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.litestar import AuthonomyPlugin, login_required
from authonomy_integrations.sandbox import Sandbox

from ._world import build_world
from .cpu_bench import Clock, Loop, _asgi_loop


async def _no_op_guard(connection: Any, handler: Any) -> None:
    """A guard that passes everyone: what any Litestar guard costs before it checks."""


def _litestar(config: AuthonomyConfig | None, clock: Clock, *, guarded: bool) -> Any:
    guard = login_required if config is not None else _no_op_guard

    @get("/x", guards=[guard] if guarded else None)
    async def answer() -> str:
        return "ok"

    plugins = [AuthonomyPlugin(config=config, clock=clock)] if config is not None else []
    return Litestar([answer], plugins=plugins, logging_config=None)


def measure(loops: int, requests: int) -> dict[str, float]:
    """Best CPU microseconds per request of each variant, and the bare / kit ratios."""
    with Sandbox() as sb:
        world = build_world(sb, fresh_pool=1)
        config, token, clock = world.memory_config, world.token, sb.state.clock.now
        variants: dict[str, Loop] = {
            "litestar bare": _asgi_loop(_litestar(None, clock, guarded=False), token),
            "litestar bare + no-op guard": _asgi_loop(_litestar(None, clock, guarded=True), token),
            "litestar kit": _asgi_loop(_litestar(config, clock, guarded=False), token),
            "litestar kit + login_required": _asgi_loop(
                _litestar(config, clock, guarded=True), token
            ),
        }
        for many in variants.values():  # the first request verifies the token
            many(200)
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(loops):
            for name, many in variants.items():
                best[name] = min(best[name], many(requests))
    bare, guarded = best["litestar bare"], best["litestar bare + no-op guard"]
    kit = best["litestar kit + login_required"]
    ratios = {
        "ratio: kit / bare": round(bare / best["litestar kit"], 3),
        "ratio: kit + login_required / bare": round(bare / kit, 3),
        "ratio: kit + login_required / bare + no-op guard": round(guarded / kit, 3),
    }
    return {**best, **ratios}


def main(argv: list[str]) -> None:
    """Measure and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.litestar_bench")
    parser.add_argument("--quick", action="store_true", help="3 loops of 100 requests")
    parser.add_argument("--loops", type=int, default=30)
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args(argv)
    loops, requests = (3, 100) if args.quick else (args.loops, args.requests)
    print(json.dumps(measure(loops, requests), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
