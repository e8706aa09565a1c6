"""One Redis ``GET`` of a session-sized value, with redis-py's pure-Python reply parser
and with hiredis (which the ``redis`` extra installs), blocking and asyncio.

The four clients alternate in every round against one private redis-server on a free
loopback port. ``python -m benchmarks.redis_parser_bench [--quick]``
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import redis.asyncio
from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser, _HiredisParser, _RESP2Parser

from ._harness import Settings, SuiteResult, Variant, finish, measure, rows
from .redis_bench import _wait
from .workers_bench import RedisProcess

#: A session as the store keeps it is about this size (an RS256 access token and claims).
VALUE = b"i" + b"x" * 1500
ITERATIONS = 3_000


def _blocking(client: Any) -> Callable[[int], int]:
    def timed(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            client.get("session")
        return time.perf_counter_ns() - start

    return timed


def _asyncio(runner: asyncio.Runner, client: Any) -> Callable[[int], int]:
    async def timed(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            await client.get("session")
        return time.perf_counter_ns() - start

    return lambda n: runner.run(timed(n))


def main(argv: list[str]) -> None:
    settings = Settings.from_argv(argv)
    result = SuiteResult("redis-parser")
    with tempfile.TemporaryDirectory() as tmp, asyncio.Runner() as runner:
        server = RedisProcess(Path(tmp))
        try:
            _wait(server)
            redis.Redis.from_url(server.url).set("session", VALUE)
            variants = []
            for name, sync_parser, async_parser in (
                ("pure Python", _RESP2Parser, _AsyncRESP2Parser),
                ("hiredis", _HiredisParser, _AsyncHiredisParser),
            ):
                blocking = redis.Redis.from_url(server.url, parser_class=sync_parser)
                aio = redis.asyncio.Redis.from_url(server.url, parser_class=async_parser)
                variants.append(Variant(f"blocking GET, {name}", _blocking(blocking), ITERATIONS))
                variants.append(Variant(f"asyncio GET, {name}", _asyncio(runner, aio), ITERATIONS))
            samples = measure(variants, settings)
            result.rows += rows("one Redis GET", samples, "blocking GET, pure Python")
        finally:
            server.stop()
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
