"""Direct timings of the steps inside a request path, without a profiler's distortion.

Each step is a zero-argument callable run ``n`` times, five times over; the median
microseconds per call is reported. Steps nest (a store load includes decompressing),
so the rows are read as a tree, not summed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from authonomy_integrations._core.serving import Serving
from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations._core.user import AuthonomyUser
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.stores import _base as store_base

from ._harness import Row
from ._world import World


def step_costs(group: str, steps: Mapping[str, Callable[[], object]], n: int) -> list[Row]:
    """Median µs per call of each step."""
    out = []
    for name, step in steps.items():
        step()
        samples = []
        for _ in range(5):
            start = time.perf_counter_ns()
            for _ in range(n):
                step()
            samples.append((time.perf_counter_ns() - start) / n / 1000)
        out.append(
            Row(
                group,
                name,
                round(statistics.median(samples), 3),
                (round(min(samples), 3), round(max(samples), 3)),
            )
        )
    return out


REPEAT_COOKIE = "runtime.authenticate_session, repeat cookie (decoded-session cache hit)"


def session_steps(world: World, n: int) -> list[Row]:
    """What one request with a session cookie costs, step by step, for both stores."""
    rows: list[Row] = []
    for label, config, login in (
        ("memory store", world.memory_config, world.memory_login),
        ("CookieSessionStore", world.cookie_config, world.cookie_login),
    ):
        kit = AuthonomySync(config)
        store: Any = config.session_store
        record = store.load(login.session_cookie)
        data = record.to_bytes()
        # The steps after the first are what a cache miss costs: the first request of a
        # session in this process, or one after a touch or refresh.
        steps: dict[str, Callable[[], object]] = {
            REPEAT_COOKIE: lambda kit=kit, c=login.session_cookie: kit.authenticate_session(c),
            f"{type(store).__name__}.load": lambda s=store, c=login.session_cookie: s.load(c),
        }
        if label == "memory store":
            packed = store_base.compress(data)
            steps["stores.base.decompress"] = lambda p=packed: store_base.decompress(p)
        else:
            box = getattr(store, "_box", None)
            if box is not None:
                steps["SecretBox.open (AES-GCM, base64)"] = lambda b=box, c=login.session_cookie: (
                    b.open(c)
                )
        steps["Engine.authenticate_session, record already loaded"] = (
            lambda kit=kit, c=login.session_cookie, r=record: _engine_only(kit, c, r)
        )
        steps["SessionRecord.from_bytes (JSON + JWT payload decode)"] = lambda d=data: (
            SessionRecord.from_bytes(d)
        )
        steps["AuthonomyUser.from_claims"] = lambda c=record.claims: AuthonomyUser.from_claims(c)
        rows += step_costs(f"breakdown: session cookie, {label}", steps, n)
        kit.close()
    return rows


def _engine_only(kit: AuthonomySync, cookie: str, record: SessionRecord) -> object:
    """The engine's decisions for a session whose record the store has just returned."""
    flow = kit.engine.authenticate_session(cookie)
    reply: object = None
    while True:
        try:
            effect = flow.send(reply)
        except StopIteration as stop:
            return stop.value
        reply = record if type(effect).__name__ == "LoadSession" else cookie


def starlette_steps(middleware: Any, token: str, n: int) -> list[Row]:
    """The middleware's work for a repeat bearer token, one operation at a time."""
    from ._asgi import http_scope

    scope = http_scope(bearer=token)
    headers = scope["headers"]
    callers = middleware.runtime.callers
    serving = Serving(middleware.runtime.routes, callers)
    engine = middleware.runtime.engine
    authorization = f"Bearer {token}".encode()
    callers.known(authorization, None)  # a header is remembered from its second request on
    steps: dict[str, Callable[[], object]] = {
        "Serving.known_in(path, scope['headers']), repeat token": lambda: serving.known_in(
            "/me", headers
        ),
        "Callers.known, repeat token": lambda: callers.known(authorization, None),
        "Engine.cached_bearer (clock + TokenCache.get)": lambda: engine.cached_bearer(token),
        "TokenCache.get": lambda: engine.bearer_cache.get(token, 0.0),
        "time.time()": time.time,
        "dict(scope) (every variant pays this in the loop)": lambda: dict(scope),
    }
    return step_costs("breakdown: starlette, repeat bearer token", steps, n)
