"""Starlette or FastAPI, in-process: the kit's middleware against a bare app and peers.

``python -m benchmarks.asgi_bench --framework starlette|fastapi [--quick]``
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import AuthonomyMiddleware, login_required, require_policy

from ._asgi import ASGIApp, Client, http_scope
from ._breakdown import session_steps, starlette_steps
from ._harness import (
    Row,
    Settings,
    SuiteResult,
    Target,
    Variant,
    finish,
    measure,
    median_of,
    profile,
    rows,
)
from ._peers import DictTokenBackend, NoopMiddleware, PyJWTMiddleware
from ._world import World, build_world

FAST = 10_000
SLOW = 2_000

BARE = "bare app"
KIT_REPEAT = "kit: bearer, repeat token"
KIT_FRESH = "kit: bearer, first-seen token"
KIT_MEMORY = "kit: session cookie, memory store"
KIT_COOKIE = "kit: session cookie, CookieSessionStore"
KIT_POLICY = "kit: bearer + @require_policy"
KIT_LOGIN = "kit: bearer + @login_required"
NOOP = "reference: bare + no-op pure ASGI middleware"
PEER_DICT = "peer: Starlette AuthenticationMiddleware (dict)"
PEER_PYJWT = "peer: PyJWT verify per request"

ENGINE_VERIFY = "kit: Engine.verify_access_token"
ENGINE_BEARER = "kit: Engine.authenticate_bearer (cache miss)"
BARE_DECODE = "jwt.decode, preloaded key"


def _display_name(request: Request) -> Response:
    user = request.scope.get("user")
    return PlainTextResponse(user.display_name if user is not None else "")


async def api(request: Request) -> Response:
    """The endpoint every variant calls: answers the user's display name."""
    return _display_name(request)


def _policy_endpoint() -> Callable[[Request], Any]:
    async def admin(request: Request) -> Response:
        return _display_name(request)

    return require_policy("require-mfa")(admin)


def starlette_app(middleware: list[Middleware] | None = None, *, guarded: bool = False) -> ASGIApp:
    """A one-route Starlette app (plus ``/admin`` behind the policy); ``guarded``: ``/api``
    behind ``@login_required``, at the same place in the route table as the bare app's."""
    endpoint = login_required(api) if guarded else api
    routes = [Route("/api", endpoint), Route("/admin", _policy_endpoint())]
    return Starlette(routes=routes, middleware=middleware or [])


def fastapi_app(middleware: list[Middleware] | None = None, *, guarded: bool = False) -> ASGIApp:
    """The same app as FastAPI path operations."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, middleware=middleware or [])

    async def fastapi_api(request: Request) -> Response:
        return _display_name(request)

    app.get("/api")(login_required(fastapi_api) if guarded else fastapi_api)

    @app.get("/admin")
    @require_policy("require-mfa")
    async def fastapi_admin(request: Request) -> Response:
        return _display_name(request)

    return app


@dataclass(frozen=True)
class Case:
    """A variant before timing: its client and the body a correct answer carries."""

    name: str
    client: Client
    expected: bytes
    iterations: int = FAST


def cases(build: Callable[..., ASGIApp], world: World) -> list[Case]:
    """Bare, peers and (when the adapter is installed) every kit variant."""
    name = world.display_name
    sandbox = world.sandbox
    out = [
        Case(BARE, Client(build(), [http_scope(bearer=world.token)]), b""),
        Case(
            NOOP, Client(build([Middleware(NoopMiddleware)]), [http_scope(bearer=world.token)]), b""
        ),
        Case(
            PEER_DICT,
            Client(
                build(
                    [
                        Middleware(
                            AuthenticationMiddleware,
                            backend=DictTokenBackend({world.token: name.decode()}),
                        )
                    ]
                ),
                [http_scope(bearer=world.token)],
            ),
            name,
        ),
        Case(
            PEER_PYJWT,
            Client(
                build(
                    [
                        Middleware(
                            PyJWTMiddleware,
                            key=world.key,
                            issuer=sandbox.issuer,
                            audience=sandbox.audience,
                        )
                    ]
                ),
                [http_scope(bearer=world.token)],
            ),
            name,
            SLOW,
        ),
    ]
    return out + _kit_cases(build, world)


def _kit(build: Callable[..., ASGIApp], config: AuthonomyConfig, guarded: bool = False) -> ASGIApp:
    return build([Middleware(AuthonomyMiddleware, config=config)], guarded=guarded)


def _kit_cases(build: Callable[..., ASGIApp], world: World) -> list[Case]:
    name = world.display_name
    cookie = world.session_cookie_name
    memory_app = _kit(build, world.memory_config)
    return [
        Case(KIT_REPEAT, Client(memory_app, [http_scope(bearer=world.token)]), name),
        Case(
            KIT_FRESH,
            Client(
                _kit(build, world.fresh_config),
                [http_scope(bearer=token) for token in world.fresh_tokens],
            ),
            name,
            SLOW,
        ),
        Case(
            KIT_MEMORY,
            Client(memory_app, [http_scope(cookie=(cookie, world.memory_login.session_cookie))]),
            name,
        ),
        Case(
            KIT_COOKIE,
            Client(
                _kit(build, world.cookie_config),
                [http_scope(cookie=(cookie, world.cookie_login.session_cookie))],
            ),
            name,
        ),
        Case(
            KIT_LOGIN,
            Client(
                _kit(build, world.memory_config, guarded=True), [http_scope(bearer=world.token)]
            ),
            name,
        ),
        Case(KIT_POLICY, Client(memory_app, [http_scope("/admin", bearer=world.token)]), name),
    ]


def check(runner: asyncio.Runner, case: Case) -> None:
    """Refuse to time a variant that does not answer 200 with alice's name."""
    status, body = runner.run(case.client.probe())
    if status != 200 or body != case.expected:
        raise RuntimeError(
            f"{case.name}: got {status} {body[:200]!r}, expected 200 {case.expected!r}"
        )


def verification_variants(world: World) -> tuple[list[Variant], AuthonomySync]:
    """Full verification of first-seen tokens: the kit's engine vs a bare ``jwt.decode``."""
    kit = AuthonomySync(world.fresh_config)
    tokens = world.fresh_tokens
    kit.run(kit.engine.verify_access_token(tokens[0]))  # fetch the key set once
    engine, run, key, sb = kit.engine, kit.run, world.key, world.sandbox

    def engine_verify(n: int) -> int:
        start = _now()
        for i in range(n):
            run(engine.verify_access_token(tokens[i % len(tokens)]))
        return _now() - start

    def engine_bearer(n: int) -> int:
        start = _now()
        for i in range(n):
            run(engine.authenticate_bearer(tokens[i % len(tokens)]))
        return _now() - start

    def bare_decode(n: int) -> int:
        start = _now()
        for i in range(n):
            jwt.decode(
                tokens[i % len(tokens)],
                key,
                algorithms=["RS256"],
                audience=sb.audience,
                issuer=sb.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        return _now() - start

    variants = [
        Variant(BARE_DECODE, bare_decode, SLOW),
        Variant(ENGINE_VERIFY, engine_verify, SLOW),
        Variant(ENGINE_BEARER, engine_bearer, SLOW),
    ]
    return variants, kit


_now = time.perf_counter_ns


#: The brief's goals: the middleware alone, and with ``@login_required`` (Starlette).
REPEAT_GOAL = {"starlette": 0.88, "fastapi": 0.90}
LOGIN_GOAL = 0.85
COOKIE_GOAL = 0.80


def targets(framework: str, result_rows: list[Row]) -> list[Target]:
    """The brief's goals for this framework, from this run's rows."""
    group = f"{framework} in-process"
    if not any(r.name == KIT_REPEAT for r in result_rows if r.group == group):
        return []
    bare = median_of(result_rows, group, BARE)
    goal = REPEAT_GOAL[framework]
    found = [_ratio_target(f"{framework}: repeat bearer token", result_rows, group, bare, goal)]
    if framework == "starlette":
        found.append(
            _ratio_target(
                "starlette: repeat bearer token + @login_required",
                result_rows,
                group,
                bare,
                LOGIN_GOAL,
                KIT_LOGIN,
            )
        )
        for name in (KIT_MEMORY, KIT_COOKIE):
            label = f"starlette: {name.removeprefix('kit: ')}"
            found.append(_ratio_target(label, result_rows, group, bare, COOKIE_GOAL, name))
        found += _first_seen_targets(result_rows, bare)
    return found


def _ratio_target(
    label: str, result_rows: list[Row], group: str, bare: Row, goal: float, name: str = KIT_REPEAT
) -> Target:
    row = median_of(result_rows, group, name)
    return Target(
        label,
        f">= {goal:.2f} of bare throughput",
        f"{row.ratio:.3f} (+{row.median_us - bare.median_us:.2f} µs)",
        (row.ratio or 0) >= goal,
    )


def _first_seen_targets(result_rows: list[Row], bare: Row) -> list[Target]:
    decode = median_of(result_rows, "token verification", BARE_DECODE)
    verify = median_of(result_rows, "token verification", ENGINE_VERIFY)
    fresh = median_of(result_rows, "starlette in-process", KIT_FRESH)
    added = fresh.median_us - bare.median_us
    return [
        Target(
            "first-seen token: Engine.verify_access_token",
            "no slower than jwt.decode with a preloaded key",
            f"{verify.median_us:.1f} µs vs {decode.median_us:.1f} µs",
            verify.median_us <= decode.median_us,
        ),
        Target(
            "first-seen token: whole request, cost over bare",
            "no slower than jwt.decode with a preloaded key",
            f"+{added:.1f} µs vs {decode.median_us:.1f} µs",
            added <= decode.median_us,
        ),
    ]


def main(argv: list[str]) -> None:
    """Run the suite for the framework named after ``--framework``."""
    framework = argv[argv.index("--framework") + 1] if "--framework" in argv else "starlette"
    build = starlette_app if framework == "starlette" else fastapi_app
    settings = Settings.from_argv(argv)
    result = SuiteResult(suite=framework)
    with Sandbox() as sb, asyncio.Runner() as runner:
        world = build_world(sb)
        all_cases = cases(build, world)
        for case in all_cases:
            check(runner, case)
        variants = [
            Variant(c.name, lambda n, c=c: runner.run(c.client.timed(n)), c.iterations)
            for c in all_cases
        ]
        samples = measure(variants, settings)
        result.rows += rows(f"{framework} in-process", samples, BARE)
        if framework == "starlette":
            verify, kit = verification_variants(world)
            result.rows += rows("token verification", measure(verify, settings), BARE_DECODE)
            kit.close()
            steps_n = max(200, int(2000 * settings.scale))
            middleware = AuthonomyMiddleware(api, config=world.memory_config)
            runner.run(middleware.runtime.authenticate_bearer(world.token))  # now cached
            result.rows += starlette_steps(middleware, world.token, steps_n * 5)
            result.rows += session_steps(world, steps_n)
        result.targets += targets(framework, result.rows)
        _profile_misses(result, variants)
    finish(result, argv)


#: Which variant to profile when a target is missed.
_PROFILED = {
    "repeat bearer token + @login_required": KIT_LOGIN,
    "repeat bearer token": KIT_REPEAT,
    "session cookie, memory store": KIT_MEMORY,
    "session cookie, CookieSessionStore": KIT_COOKIE,
    "first-seen token: whole request": KIT_FRESH,
}


def _profile_misses(result: SuiteResult, variants: list[Variant]) -> None:
    by_name = {v.name: v for v in variants}
    for target in result.targets:
        if target.met:
            continue
        for label, name in _PROFILED.items():
            if label in target.name and name in by_name:
                result.profiles[f"{result.suite}: {name}"] = profile(by_name[name].batch, 3000)
                break


if __name__ == "__main__":
    main(sys.argv[1:])
