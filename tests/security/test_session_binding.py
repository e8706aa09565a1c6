"""A session belongs to the app that made it, even when apps share a store or a secret."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations._core.sessions import SessionRecord, new_record
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore, RedisSessionStore

from ..stores.conftest import RecordFactory
from .apps import Adapter
from .flows import browser, sign_in, whoami

SECRET = "a-session-secret-both-apps-were-given-0123456789"

OTHER_APPS: dict[str, dict[str, Any]] = {
    "audience": {"audience": "app_other"},
    "issuer": {"issuer": "http://127.0.0.1:9/other-issuer"},
}


@pytest.mark.parametrize("differs", sorted(OTHER_APPS))
def test_another_app_sharing_the_store_refuses_the_session(
    adapter: Adapter, sb: Sandbox, differs: str
) -> None:
    store = MemorySessionStore()

    def first(url: str) -> Any:
        return sb.config(app_url=url, session_store=store)

    def second(url: str) -> Any:
        return sb.config(app_url=url, session_store=store, **OTHER_APPS[differs])

    clock = sb.state.clock.now
    with adapter.serve(first, clock) as first_url, adapter.serve(second, clock) as second_url:
        with browser(first_url) as http:
            assert sign_in(http, user="bob").status_code == 302
            cookie = http.cookies["authonomy_session"]
        with browser(second_url) as other:
            other.cookies.set("authonomy_session", cookie)
            assert whoami(other) is None
        # Refused there, not ended here: it is still the first app's session.
        with browser(first_url) as http:
            http.cookies.set("authonomy_session", cookie)
            assert whoami(http) == "user_bob"


def test_apps_sharing_a_redis_keep_their_sessions_apart(
    adapter: Adapter, sb: Sandbox, redis_url: str
) -> None:
    stores = [RedisSessionStore(redis_url), RedisSessionStore(redis_url)]

    def first(url: str) -> Any:
        return sb.config(app_url=url, session_store=stores[0])

    def second(url: str) -> Any:
        return sb.config(app_url=url, session_store=stores[1], audience="app_other")

    clock = sb.state.clock.now
    try:
        with adapter.serve(first, clock) as url, adapter.serve(second, clock) as other_url:
            with browser(url) as http:
                assert sign_in(http, user="bob").status_code == 302
                cookie = http.cookies["authonomy_session"]
                assert whoami(http) == "user_bob"
            assert stores[0].prefix == f"authonomy:session:{sb.audience}:"
            assert stores[1].load(cookie) is None  # another key space
            with browser(other_url) as other:
                other.cookies.set("authonomy_session", cookie)
                assert whoami(other) is None
    finally:
        for store in stores:
            store.close()


def test_redis_stores_of_two_audiences_do_not_see_each_others_keys(
    redis_url: str, make_record: RecordFactory
) -> None:
    first, second = RedisSessionStore(redis_url), RedisSessionStore(redis_url)
    first.bind_audience("app_one")
    second.bind_audience("app_two")
    try:
        cookie = first.save(make_record(), 60)
        assert first.load(cookie) is not None
        assert second.load(cookie) is None
        second.delete(cookie)  # cannot reach the other app's key either
        assert first.load(cookie) is not None
    finally:
        first.close()
        second.close()


def test_cookie_sessions_are_bound_to_the_audience(make_record: RecordFactory) -> None:
    first = CookieSessionStore(SECRET, audience="app_one")
    second = CookieSessionStore(SECRET)
    second.bind_audience("app_two")
    record = make_record()
    cookie = first.save(record, 60)
    assert first.load(cookie) == record
    assert second.load(cookie) is None
    assert CookieSessionStore(SECRET).load(cookie) is None  # an unbound store neither


@pytest.mark.parametrize("kind", ["redis", "cookie"])
def test_one_store_object_cannot_serve_two_apps(kind: str) -> None:
    store: Any = (
        RedisSessionStore("redis://127.0.0.1:9/0")
        if kind == "redis"
        else CookieSessionStore(SECRET)
    )
    store.bind_audience("app_one")
    store.bind_audience("app_one")  # the same app again (a second worker thread, a reload)
    with pytest.raises(ConfigurationError) as raised:
        store.bind_audience("app_two")
    assert raised.value.field == "session_store"


def test_a_record_keeps_the_app_that_made_it(make_record: RecordFactory) -> None:
    base = make_record()
    record = new_record(base.id, base.tokens, base.claims, 0.0, iss="https://x", aud="app_x")
    loaded = SessionRecord.from_bytes(record.to_bytes())
    assert loaded is not None
    assert (loaded.issuer, loaded.audience) == ("https://x", "app_x")
    # The usual case: the token names the app already, and the record stays small.
    same = new_record(base.id, base.tokens, base.claims, 0.0, iss=base.claims["iss"], aud="app_123")
    assert b'"is"' not in same.to_bytes() and b'"au"' not in same.to_bytes()
    assert (same.issuer, same.audience) == (base.claims["iss"], "app_123")
