"""``python -m benchmarks.quart_bench [--quick] [--loops N] [--requests N]``: the Quart
extension's cost per request against a bare Quart app, as CPU time.

One route answers ``"ok"``; the kit's variant has ``Authonomy(app, config=...)`` and
``@login_required`` on it, and every request carries the same valid bearer token (the
repeat caller). Each app is called directly through ASGI (no server), the variants
interleaved, and the best CPU time (``time.thread_time``) of ``--loops`` loops of
``--requests`` requests is kept, as in :mod:`benchmarks.cpu_bench`: on a shared, loaded
machine CPU time swings far less than wall time. Prints one JSON object: microseconds per
request by variant, and the ratio bare / kit (target >= 0.90).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from quart import Quart

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.quart import Authonomy, login_required
from authonomy_integrations.sandbox import Sandbox

from ._world import build_world

#: Runs ``n`` requests and answers the CPU microseconds per request.
Loop = Callable[[int], float]


async def _ok() -> str:
    return "ok"


def _quart(config: AuthonomyConfig | None, clock: Callable[[], float]) -> Quart:
    app = Quart("quart_bench")
    if config is None:
        app.add_url_rule("/x", "x", _ok)
    else:
        Authonomy(app, config=config, clock=clock)
        app.add_url_rule("/x", "x", login_required(_ok))
    return app


def _scope(token: str) -> dict[str, Any]:
    headers = [(b"host", b"x"), (b"accept", b"*/*"), (b"authorization", f"Bearer {token}".encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/x",
        "raw_path": b"/x",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("x", 80),
        "client": ("127.0.0.1", 1),
        "extensions": {},
    }


def _asgi_loop(app: Quart, token: str) -> Loop:
    scope = _scope(token)

    async def send(message: Any) -> None:
        return None

    async def one() -> None:
        sent = False

        async def receive() -> Any:
            nonlocal sent
            if sent:  # the body was given: wait, as a server does, until cancelled
                await asyncio.Future()
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}

        await app(dict(scope), receive, send)  # type: ignore[arg-type]

    async def many(n: int) -> float:
        started = time.thread_time()
        for _ in range(n):
            await one()
        return (time.thread_time() - started) / n * 1e6

    loop = asyncio.new_event_loop()
    return lambda n: loop.run_until_complete(many(n))


def measure(loops: int, requests: int) -> dict[str, float]:
    """Best CPU microseconds per request of each variant, and the ratio bare / kit."""
    with Sandbox() as sb:
        world = build_world(sb, fresh_pool=1)
        clock = sb.state.clock.now
        variants = {
            "quart bare": _asgi_loop(_quart(None, clock), world.token),
            "quart kit + @login_required": _asgi_loop(
                _quart(world.memory_config, clock), world.token
            ),
        }
        for many in variants.values():
            many(200)  # the first request verifies the token; the next are repeats
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(loops):
            for name, many in variants.items():
                best[name] = min(best[name], many(requests))
        best["ratio bare / kit"] = best["quart bare"] / best["quart kit + @login_required"]
        return best


def main(argv: list[str]) -> None:
    """Measure and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quart_bench")
    parser.add_argument("--quick", action="store_true", help="3 loops of 100 requests")
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    loops, requests = (3, 100) if args.quick else (args.loops, args.requests)
    print(json.dumps(measure(loops, requests), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
