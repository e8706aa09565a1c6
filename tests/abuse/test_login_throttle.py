"""The login throttle is fair: an IPv6 site cannot rotate through its /64s, clients the
server cannot tell apart do not block each other, and workers sharing Redis count
together."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest

from authonomy_integrations._core.throttle import LoginThrottle
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import (
    CountsLoginStarts,
    MemorySessionStore,
    RedisSessionStore,
)
from tests.browsing import PAGE

from .apps import ADAPTERS, NO_ADDRESS, kit


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _authorize_calls(sb: Sandbox) -> int:
    return sb.request_count("POST", "/v1/auth/authorize")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_ipv6_site_cannot_rotate_through_its_slash_64s(adapter: str, sb: Sandbox) -> None:
    # A day's window: nothing refills while the test runs.
    config = sb.config(max_retries=0, login_rate_limit=1, login_rate_window=86400)
    with kit(adapter, config) as app:
        starts = [
            app.get_from(f"2001:db8:7:{n:x}::1", "/auth/login?next=/", PAGE).status_code
            for n in range(12)
        ]
        # Its own /64 is still limited to one start.
        again = app.get_from("2001:db8:7:0::2", "/auth/login?next=/", PAGE).status_code
        other_site = app.get_from("2001:db8:8::1", "/auth/login?next=/", PAGE).status_code
    assert starts == [302] * 8 + [429] * 4  # the /48 allows 8 x the limit
    assert again == 429
    assert other_site == 302


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_clients_without_an_address_cannot_block_each_others_sign_in(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "authonomy_integrations")
    config = sb.config(max_retries=0, login_rate_limit=1, login_rate_window=86400)
    with kit(adapter, config) as app:
        before = _authorize_calls(sb)
        statuses = [
            app.get_from(NO_ADDRESS, "/auth/login?next=/", PAGE).status_code for _ in range(4)
        ]
        assert _authorize_calls(sb) == before + 4
        # Clients with an address are still limited.
        assert app.get_from("192.0.2.9", "/auth/login?next=/", PAGE).status_code == 302
        assert app.get_from("192.0.2.9", "/auth/login?next=/", PAGE).status_code == 429
    assert statuses == [302] * 4
    said = [r.getMessage() for r in caplog.records if "client address" in r.getMessage()]
    assert len(said) == 1, said  # once, with how to pass the addresses
    assert "--proxy-headers" in said[0] and "ProxyFix" in said[0]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_workers_sharing_redis_count_login_starts_together(
    adapter: str, sb: Sandbox, redis_url: str
) -> None:
    secret = secrets.token_urlsafe(32)  # the app's, as every worker of it has
    stores = [RedisSessionStore(redis_url), RedisSessionStore(redis_url)]
    configs = [
        sb.config(
            max_retries=0,
            login_rate_limit=2,
            login_rate_window=86400,
            session_secret=secret,
            session_store=store,
        )
        for store in stores
    ]
    try:
        with kit(adapter, configs[0]) as first, kit(adapter, configs[1]) as second:
            statuses = [
                worker.get_from("198.51.100.7", "/auth/login?next=/", PAGE).status_code
                for worker in (first, second, first, second)
            ]
            other = second.get_from("198.51.100.8", "/auth/login?next=/", PAGE)
    finally:
        for store in stores:
            store.close()
    assert statuses == [302, 302, 429, 429]
    assert other.status_code == 302


def test_throttle_counts_an_ipv6_site_per_slash_48_as_well() -> None:
    throttle = LoginThrottle(limit=1, window=60)
    assert [throttle.take(f"2001:db8:1:{n:x}::1", 0) for n in range(8)] == [None] * 8
    assert throttle.take("2001:db8:1:ff::1", 0) == 8  # the /48 refills 8 a minute
    assert throttle.take("2001:db8:2::1", 0) is None


def test_throttle_leaves_clients_without_an_address_alone() -> None:
    throttle = LoginThrottle(limit=1, window=60)
    assert all(throttle.take(None, 0) is None for _ in range(10))
    assert all(throttle.take("", 0) is None for _ in range(10))
    assert len(throttle) == 0


def test_throttle_names_buckets_by_keyed_hash_never_by_address() -> None:
    one = LoginThrottle(limit=1, window=60, secret=b"k" * 32)
    same = LoginThrottle(limit=1, window=60, secret=b"k" * 32)
    other = LoginThrottle(limit=1, window=60, secret=b"o" * 32)
    [bucket] = one.buckets("192.0.2.1")
    assert "192.0.2" not in bucket.key
    assert same.buckets("192.0.2.1") == [bucket]  # every worker of the app names it alike
    assert other.buckets("192.0.2.1") != [bucket]
    assert one.label("192.0.2.1") == bucket.key[:12]


class _CountingStore(MemorySessionStore, CountsLoginStarts):
    """A store of one's own that declares login counts, kept in one dict every worker of
    the test shares (as a database would be)."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        return self.counts[bucket], float(window)

    async def acount_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        return self.count_login_start(bucket, window)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_workers_sharing_a_store_that_declares_login_counts_count_together(
    adapter: str, sb: Sandbox
) -> None:
    secret, counts = secrets.token_urlsafe(32), dict[str, int]()
    configs = [
        sb.config(
            max_retries=0,
            login_rate_limit=2,
            login_rate_window=86400,
            session_secret=secret,
            session_store=_CountingStore(counts),
        )
        for _ in range(2)
    ]
    with kit(adapter, configs[0]) as first, kit(adapter, configs[1]) as second:
        statuses = [
            worker.get_from("198.51.100.9", "/auth/login?next=/", PAGE).status_code
            for worker in (first, second, first, second)
        ]
    assert statuses == [302, 302, 429, 429]
    assert counts, "the store's own counts were not used"
