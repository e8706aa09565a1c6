"""Who is calling, from memory: a remembered bearer header never outlives its token's
cache entry, and the ASGI header scan reads what the flow would read."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations._core.caller import ASK, Pending
from authonomy_integrations._core.events import REPEAT
from authonomy_integrations._core.serving import Serving
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox

from ..browsing import mint


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def kit(sb: Sandbox) -> Iterator[AuthonomySync]:
    runtime = AuthonomySync(sb.config(app_url="http://localhost"), clock=sb.state.clock.now)
    yield runtime
    runtime.close()


def _verified(kit: AuthonomySync, sb: Sandbox, **claims: Any) -> tuple[str, bytes]:
    token = mint(sb, **claims)
    kit.run(kit.engine.authenticate_bearer(token))
    return token, f"Bearer {token}".encode()


def test_a_remembered_header_is_forgotten_when_its_token_is_withdrawn(
    kit: AuthonomySync, sb: Sandbox
) -> None:
    _, header = _verified(kit, sb)
    callers = kit.callers
    assert callers.known(header, None).id == "user_alice"  # remembered from now on
    kit.engine.bearer_cache.clear()  # what a revoked session does
    assert callers.known(header, None) is ASK


def test_a_withdrawal_during_the_lookup_leaves_no_copy_behind(
    kit: AuthonomySync, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A revocation on another thread lands between reading the cache and remembering
    # the header: the request in flight may still pass, the next one must not.
    _, header = _verified(kit, sb)
    cache = kit.engine.bearer_cache
    lookup = cache.entry

    def entry_then_withdrawn(token: str, now: float) -> Any:
        found = lookup(token, now)
        cache.clear()
        return found

    monkeypatch.setattr(cache, "entry", entry_then_withdrawn)
    assert kit.callers.known(header, None).id == "user_alice"
    monkeypatch.setattr(cache, "entry", lookup)
    assert kit.callers.known(header, None) is ASK


def test_a_remembered_header_expires_with_its_token(kit: AuthonomySync, sb: Sandbox) -> None:
    now = int(sb.state.clock.now())
    _, header = _verified(kit, sb, exp=now + 60)
    assert kit.callers.known(header, None).id == "user_alice"
    kit.engine.clock = lambda: now + 60.0
    assert kit.callers.known(header, None) is ASK


def test_with_listeners_a_header_is_remembered_and_each_hit_counted_not_heard(
    sb: Sandbox,
) -> None:
    # The fast path is the same whoever listens: a hook hears the first-seen token, and
    # each repeat is one more in the events' counts.
    seen: list[str] = []
    config = sb.config(app_url="http://localhost", on_event=lambda e: seen.append(e.name))
    kit = AuthonomySync(config, clock=sb.state.clock.now)
    try:
        _, header = _verified(kit, sb)
        for _ in range(3):
            assert kit.callers.known(header, None).id == "user_alice"
        assert len(kit.engine.bearer_cache.by_header) == 1
        assert seen.count("token.accepted") == 1
        assert kit.engine.events.counts[REPEAT] == 3
    finally:
        kit.close()


def test_the_asgi_scan_combines_repeated_headers(kit: AuthonomySync, sb: Sandbox) -> None:
    _, header = _verified(kit, sb)
    serving = Serving(kit.routes, kit.callers)
    known_in = functools.partial(serving.known_in, "/anywhere")
    assert known_in([(b"accept", b"*/*"), (b"authorization", header)]).id == "user_alice"
    assert known_in(iter([(b"authorization", header)])).id == "user_alice"  # any iterable
    # Two Authorization headers are one value that no token matches: neither wins.
    other = b"Bearer not-a-token"
    for pair in ((other, header), (header, other), (header, header)):
        both = [(b"authorization", pair[0]), (b"authorization", pair[1])]
        assert known_in(both) == Pending(pair[0] + b", " + pair[1], None)
    # Cookies split over several headers are one header, in order.
    cookies = [(b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"authonomy_session=x")]
    assert known_in(cookies) == Pending(None, b"a=1; authonomy_session=x")
    # An empty Authorization header leaves the cookies to decide.
    assert known_in([*cookies, (b"authorization", b"")]) == Pending(
        None, b"a=1; authonomy_session=x"
    )
    assert known_in([(b"cookie", b"a=1")]) is None
    assert known_in([]) is None


def test_a_websocket_cookie_needs_one_origin_the_apps_own(sb: Sandbox) -> None:
    # Servers may pass several Origin headers on (uvicorn refuses them itself): no one
    # of them may win, whichever comes first.
    seen: list[Any] = []
    config = sb.config(app_url="http://localhost", on_event=seen.append)
    kit = AuthonomySync(config, clock=sb.state.clock.now)
    try:
        serving = Serving(kit.routes, kit.callers)
        known_in = functools.partial(serving.known_in, "/ws", websocket=True)
        cookie = (b"cookie", b"authonomy_session=x")
        own, evil = (b"origin", b"http://localhost"), (b"origin", b"http://evil.localhost")
        assert known_in([(b"host", b"localhost"), own, cookie]) == Pending(None, cookie[1])
        for origins in ([own, evil], [evil, own], [own, own]):
            assert known_in([(b"host", b"localhost"), *origins, cookie]) is None
        assert [e.reason for e in seen] == ["wrong_origin"] * 3
        # Plain HTTP keeps its own rules: the Origin decides nothing there.
        assert serving.known_in("/ws", [own, evil, cookie]) == Pending(None, cookie[1])
    finally:
        kit.close()
