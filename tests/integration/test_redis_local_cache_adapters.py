"""Two instances of one app, each adapter, on one Redis with a local session cache: a
user who signs out on one instance is signed out on the other within 50 ms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.testing import login_as
from tests.browsing import PAGE

from ..abuse.apps import ADAPTERS, home, kit, take_session_cookie, with_session_cookie
from ..redis_servers import wait_until
from .test_redis_local_cache import BOUND, CACHE_TTL, within

#: A logout from the app's own page.
SAME_SITE = {**PAGE, "Sec-Fetch-Site": "same-origin"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _logout(client: Any, cookie: str) -> Any:
    return client.post("/auth/logout", headers={**SAME_SITE, **with_session_cookie(client, cookie)})


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_on_one_app_instance_signs_the_user_out_of_the_other_within_50ms(
    adapter: str, sb: Sandbox, redis_url: str
) -> None:
    stores = [RedisSessionStore(redis_url, local_cache_ttl=CACHE_TTL) for _ in range(2)]
    configs = [sb.config(session_store=store) for store in stores]
    try:
        with kit(adapter, configs[0]) as first, kit(adapter, configs[1]) as second:
            wait_until(lambda: all(s.following_changes for s in stores), "the listeners")
            assert login_as(first.client, "alice", next_path="/home") == "/home"
            cookie = take_session_cookie(first.client)

            def served_from_memory() -> bool:
                engine = second.runtime.engine
                return home(second.client, cookie) == 200 and bool(engine.cached_session(cookie))

            wait_until(served_from_memory, "the second instance caching the session", 5)
            assert _logout(first.client, cookie).status_code == 303
            within(BOUND, lambda: home(second.client, cookie) == 401, "the logout")
    finally:
        for store in stores:
            store.close()
