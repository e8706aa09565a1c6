"""Session-cookie requests on Redis, in-process: memory store against Redis.

One Starlette app (asyncio Redis client) and one Flask app (blocking client), each
measured with its sessions in memory, in Redis as the engine read them before (the
session ``GET`` and the revoked-sid ``EXISTS``: two round trips), in Redis as it reads
them now (one ``GET``), and in Redis with ``local_cache_ttl`` (no Redis command on a
repeat request). A private redis-server on a free loopback port; rounds alternate the
variants. ``python -m benchmarks.redis_bench [--quick]``
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
from starlette.middleware import Middleware

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._core import web
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.stores._memory import MemorySessionStore

from ._asgi import Client, http_scope
from ._harness import Settings, SuiteResult, Target, Variant, finish, measure, median_of, rows
from ._tokens import real_login
from ._wsgi import WsgiClient, environ
from .asgi_bench import starlette_app
from .flask_bench import kit_app
from .workers_bench import RedisProcess

ITERATIONS = 4_000
MEMORY = "session cookie, memory store"
TWO = "session cookie, Redis: GET + EXISTS (as before)"
ONE = "session cookie, Redis: one GET"
CACHED = "session cookie, Redis, local_cache_ttl=30"
ROUND_TRIP = "one redis.asyncio GET (the floor without a cache)"
#: The share of the memory store's throughput the local cache must keep.
GOAL = 0.80


class TwoCommandStore(RedisSessionStore):
    """The Redis store as the engine used it before: it asks about the sid separately."""

    ends_revoked_sessions = False


def stores(url: str) -> dict[str, Any]:
    """The session store of each variant."""
    return {
        MEMORY: MemorySessionStore(),
        TWO: TwoCommandStore(url),
        ONE: RedisSessionStore(url),
        CACHED: RedisSessionStore(url, local_cache_ttl=30),
    }


def configs(sb: Sandbox, url: str) -> dict[str, AuthonomyConfig]:
    """One configuration per variant, each with alice signed in to its store."""
    return {name: sb.config(session_store=store) for name, store in stores(url).items()}


def cookies(sb: Sandbox, url: str, memory: AuthonomyConfig) -> dict[str, str]:
    """Alice's session cookie in the memory store and in Redis (shared by the Redis
    variants: they use the same key prefix)."""
    in_redis = real_login(sb, sb.config(session_store=RedisSessionStore(url)))
    in_memory = real_login(sb, memory)
    return {"memory": in_memory.session_cookie, "redis": in_redis.session_cookie}


def asgi_variants(
    runner: asyncio.Runner, found: dict[str, AuthonomyConfig], held: dict[str, str], name: str
) -> list[Variant]:
    """The Starlette app over each store, and a bare Redis round trip."""
    variants = []
    for label, config in found.items():
        app = starlette_app([_middleware(config)])
        cookie = held["memory" if label == MEMORY else "redis"]
        client = Client(app, [http_scope(cookie=(name, cookie))])
        _check(runner.run(client.probe()), label)
        variants.append(Variant(f"starlette: {label}", _async_batch(runner, client), ITERATIONS))
    variants.append(Variant(ROUND_TRIP, _round_trip(runner, found[ONE]), ITERATIONS))
    return variants


def wsgi_variants(
    found: dict[str, AuthonomyConfig], held: dict[str, str], name: str
) -> list[Variant]:
    """The Flask app over each store."""
    variants = []
    for label, config in found.items():
        cookie = held["memory" if label == MEMORY else "redis"]
        client = WsgiClient(kit_app(config).wsgi_app, [environ(cookie=(name, cookie))])
        status, body = client.probe()
        _check((int(status.split()[0]), body), label)
        variants.append(Variant(f"flask: {label}", client.timed, ITERATIONS))
    return variants


def _middleware(config: AuthonomyConfig) -> Middleware:
    return Middleware(AuthonomyMiddleware, config=config)


def _async_batch(runner: asyncio.Runner, client: Client) -> Callable[[int], int]:
    return lambda n: runner.run(client.timed(n))


def _round_trip(runner: asyncio.Runner, config: AuthonomyConfig) -> Callable[[int], int]:
    store = config.session_store
    assert isinstance(store, RedisSessionStore)
    client = redis.asyncio.Redis.from_url(str(store.url))

    async def timed(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            await client.get("authonomy:bench:absent")
        return time.perf_counter_ns() - start

    return lambda n: runner.run(timed(n))


def _check(answer: tuple[int, bytes], label: str) -> None:
    status, body = answer
    if status != 200 or b"Alice" not in body:
        raise RuntimeError(f"{label}: got {status} {body[:200]!r}")


def targets(result_rows: list[Any]) -> list[Target]:
    """The local cache keeps at least ``GOAL`` of the memory store's throughput."""
    out = []
    for framework in ("starlette", "flask"):
        row = median_of(result_rows, f"{framework}: sessions on Redis", f"{framework}: {CACHED}")
        ratio = row.ratio or 0.0
        out.append(
            Target(
                f"{framework}: session cookie, Redis with local_cache_ttl vs memory store",
                f">= {GOAL:.2f} of the memory store's throughput",
                f"{ratio:.2f}",
                ratio >= GOAL,
            )
        )
    return out


def main(argv: list[str]) -> None:
    settings = Settings.from_argv(argv)
    result = SuiteResult("redis")
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox() as sb,
        asyncio.Runner() as runner,
    ):
        server = RedisProcess(Path(tmp))
        found: dict[str, AuthonomyConfig] = {}
        try:
            _wait(server)
            found = configs(sb, server.url)
            held = cookies(sb, server.url, found[MEMORY])
            name = web.session_cookie_name(found[MEMORY])
            for framework, variants in (
                ("starlette", asgi_variants(runner, found, held, name)),
                ("flask", wsgi_variants(found, held, name)),
            ):
                samples = measure(variants, settings)
                base = f"{framework}: {MEMORY}"
                result.rows += rows(f"{framework}: sessions on Redis", samples, base)
        finally:
            for config in found.values():
                if isinstance(config.session_store, RedisSessionStore):
                    config.session_store.close()  # its change listener first
            server.stop()
    result.targets += targets(result.rows)
    result.notes.append(
        "sessions on Redis: one process, a local redis-server; the median of "
        f"{settings.rounds} rounds, variants alternated; ratio = memory store time / variant time"
    )
    finish(result, argv)


def _wait(server: RedisProcess) -> None:
    client = redis.Redis.from_url(server.url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
