"""Flask, in-process WSGI: the kit's extension against a bare app and Authlib.

``python -m benchmarks.flask_bench [--quick]``
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from flask import Flask, request
from joserfc.jwk import KeySet

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._core import web
from authonomy_integrations.flask import Authonomy, current_user, require_policy
from authonomy_integrations.sandbox import Sandbox

from ._breakdown import step_costs
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
from ._world import World, build_world
from ._wsgi import WsgiClient, environ

FAST = 10_000
SLOW = 2_000
GROUP = "flask in-process"

BARE = "bare app"
KIT_REPEAT = "kit: bearer, repeat token"
KIT_FRESH = "kit: bearer, first-seen token"
KIT_MEMORY = "kit: session cookie, memory store"
KIT_COOKIE = "kit: session cookie, CookieSessionStore"
KIT_POLICY = "kit: bearer + @require_policy"
HOOKS = "reference: bare + empty before/after_request hooks"
PEER_AUTHLIB = "peer: Authlib ResourceProtector (RFC 9068)"


def bare_app() -> Flask:
    """A one-route Flask app."""
    app = Flask("bench_bare")

    @app.get("/api")
    def api() -> str:
        return ""

    return app


def hooks_app() -> Flask:
    """The bare app with an empty ``before_request`` and ``after_request``: the floor for
    an extension that works through request hooks."""
    app = bare_app()
    app.before_request(lambda: None)
    app.after_request(lambda response: response)
    return app


def kit_app(config: AuthonomyConfig) -> Flask:
    """The same route, reading the kit's ``current_user``; ``/admin`` behind a policy."""
    app = Flask("bench_kit")
    Authonomy(app, config=config)

    @app.get("/api")
    def api() -> str:
        return current_user.display_name

    @app.get("/admin")
    @require_policy("require-mfa")
    def admin() -> str:
        return current_user.display_name

    return app


class SandboxTokens(JWTBearerTokenValidator):
    """Authlib's RFC 9068 validator with the sandbox's key set loaded once."""

    def __init__(self, keys: dict[str, Any], issuer: str, audience: str) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self._keys = KeySet.import_key_set(keys)

    def get_jwks(self) -> KeySet:
        """The preloaded key set (no fetch per request)."""
        return self._keys


def authlib_app(world: World) -> Flask:
    """The same route protected by Authlib's ``ResourceProtector``."""
    from ._tokens import jwks

    app = Flask("bench_authlib")
    require_oauth = ResourceProtector()
    sb = world.sandbox
    require_oauth.register_token_validator(SandboxTokens(jwks(sb), sb.issuer, sb.audience))

    @app.get("/api")
    @require_oauth()
    def api() -> str:
        return str(current_token["name"])

    return app


@dataclass(frozen=True)
class Case:
    """A variant before timing: its client and the body a correct answer carries."""

    name: str
    client: WsgiClient
    expected: bytes
    iterations: int = FAST


def cases(world: World) -> list[Case]:
    """Bare, Authlib and (when the adapter is installed) every kit variant."""
    out = [
        Case(BARE, WsgiClient(bare_app().wsgi_app, [environ(bearer=world.token)]), b""),
        Case(HOOKS, WsgiClient(hooks_app().wsgi_app, [environ(bearer=world.token)]), b""),
        Case(
            PEER_AUTHLIB,
            WsgiClient(authlib_app(world).wsgi_app, [environ(bearer=world.token)]),
            world.display_name,
            SLOW,
        ),
    ]
    return out + _kit_cases(world)


def _kit_cases(world: World) -> list[Case]:
    name, cookie = world.display_name, world.session_cookie_name
    memory_app: Callable[..., Any] = kit_app(world.memory_config).wsgi_app
    fresh_app = kit_app(world.fresh_config).wsgi_app
    cookie_app = kit_app(world.cookie_config).wsgi_app
    return [
        Case(KIT_REPEAT, WsgiClient(memory_app, [environ(bearer=world.token)]), name),
        Case(
            KIT_FRESH,
            WsgiClient(fresh_app, [environ(bearer=t) for t in world.fresh_tokens]),
            name,
            SLOW,
        ),
        Case(
            KIT_MEMORY,
            WsgiClient(memory_app, [environ(cookie=(cookie, world.memory_login.session_cookie))]),
            name,
        ),
        Case(
            KIT_COOKIE,
            WsgiClient(cookie_app, [environ(cookie=(cookie, world.cookie_login.session_cookie))]),
            name,
        ),
        Case(KIT_POLICY, WsgiClient(memory_app, [environ("/admin", bearer=world.token)]), name),
    ]


def check(case: Case) -> None:
    """Refuse to time a variant that does not answer 200 with alice's name."""
    status, body = case.client.probe()
    if not status.startswith("200") or body != case.expected:
        raise RuntimeError(
            f"{case.name}: got {status} {body[:200]!r}, expected 200 {case.expected!r}"
        )


def targets(result_rows: list[Row]) -> list[Target]:
    """Kit vs bare (>= 0.90) and kit vs Authlib (>= 3x) with a repeat bearer token."""
    if not any(r.name == KIT_REPEAT for r in result_rows):
        return []
    bare = median_of(result_rows, GROUP, BARE)
    repeat = median_of(result_rows, GROUP, KIT_REPEAT)
    authlib = median_of(result_rows, GROUP, PEER_AUTHLIB)
    speedup = authlib.median_us / repeat.median_us
    return [
        Target(
            "flask: repeat bearer token",
            ">= 0.90 of bare throughput",
            f"{repeat.ratio:.3f} (+{repeat.median_us - bare.median_us:.2f} µs)",
            (repeat.ratio or 0) >= 0.90,
        ),
        Target(
            "flask: repeat bearer token vs Authlib ResourceProtector",
            ">= 3x Authlib's throughput",
            f"{speedup:.1f}x",
            speedup >= 3,
        ),
    ]


def flask_steps(world: World, n: int) -> list[Row]:
    """What the kit adds to a request with a repeat bearer token, one piece at a time."""
    app = kit_app(world.memory_config)
    kit = app.extensions["authonomy"]
    header = f"Bearer {world.token}"
    kit.authenticate_bearer(world.token)
    steps: dict[str, Callable[[], object]] = {
        "core.web.bearer_token": lambda: web.bearer_token(header),
        "AuthonomySync.authenticate_bearer (cache hit)": lambda: kit.authenticate_bearer(
            world.token
        ),
    }
    layer = _layer_alone(app)
    if layer is not None:
        env = environ(bearer=world.token)
        steps["the kit's WSGI layer around a no-op app"] = lambda: layer(dict(env), _ignore)
    with app.test_request_context("/api", headers={"Authorization": header}):
        # What the kit's WSGI layer leaves in the environ for the view.
        served = environ(bearer=world.token)
        app.wsgi_app(served, _ignore)
        request.environ.update(served)
        steps["current_user.display_name (LocalProxy)"] = lambda: current_user.display_name
        steps["request.headers.get('Authorization') (for scale)"] = lambda: request.headers.get(
            "Authorization"
        )
        return step_costs("breakdown: flask, repeat bearer token", steps, n)


def _layer_alone(app: Flask) -> Callable[..., object] | None:
    """The kit's WSGI layer with Flask replaced by a no-op, when the adapter has one."""
    layer = app.wsgi_app
    if not hasattr(layer, "app"):
        return None
    alone = copy.copy(layer)
    alone.app = lambda environ, start_response: ()
    return alone


def _ignore(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
    return None


def main(argv: list[str]) -> None:
    """Run the Flask suite."""
    settings = Settings.from_argv(argv)
    result = SuiteResult(suite="flask")
    with Sandbox() as sb:
        world = build_world(sb)
        all_cases = cases(world)
        for case in all_cases:
            check(case)
        variants = [Variant(c.name, c.client.timed, c.iterations) for c in all_cases]
        result.rows += rows(GROUP, measure(variants, settings), BARE)
        result.targets += targets(result.rows)
        by_name = {v.name: v for v in variants}
        if any(not t.met for t in result.targets) and KIT_REPEAT in by_name:
            result.profiles[f"flask: {KIT_REPEAT}"] = profile(by_name[KIT_REPEAT].batch, 3000)
        result.rows += flask_steps(world, max(500, int(5000 * settings.scale)))
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
