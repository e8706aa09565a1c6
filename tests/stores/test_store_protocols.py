"""Which stores the kit accepts, decided by the declared protocols at start-up: a store
with only part of what a session store or a shared store must offer is refused with the
names it lacks, never run half-way (a shared store without its refresh claims would
let two processes present the same spent refresh token). An optional ability is used
only when the store declares it; declared but incomplete, or offered but undeclared, the
store is refused with what to fix, never ignored or failing at a user's request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig, ConfigurationError
from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.stores import (
    CookieSessionStore,
    CountsLoginStarts,
    MemorySessionStore,
    RedisSessionStore,
    SharedSessionStore,
)

RUNTIMES = [AuthonomySync, AuthonomyAsync]


def _config(store: Any) -> AuthonomyConfig:
    return AuthonomyConfig(
        api_key="ak_sandbox_" + "k" * 24,
        environment="sandbox",
        audience="app_123",
        app_url="https://app.example",
        session_secret="s" * 32,
        session_store=store,
    )


class _HalfShared(MemorySessionStore):
    """Claims refreshes, but cannot save a refreshed record under its claim."""

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        pass

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        pass


def _lacking(message: str) -> list[str]:
    return message.split("it lacks ", 1)[1].split(", ")


class _LoadsOnly:
    def load(self, cookie_value: str) -> None:
        return None


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_store_with_half_the_refresh_claims_is_refused_at_start_up(runtime: Any) -> None:
    with pytest.raises(ConfigurationError) as refused:
        runtime(_config(_HalfShared()))
    message = str(refused.value)
    assert "session_store" in message and "_HalfShared" in message
    assert _lacking(message) == [
        "adrop_refresh_claim",
        "arefresh_claimed",
        "asave_refreshed",
        "drop_refresh_claim",
        "refresh_claimed",
        "save_refreshed",
    ]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_object_that_is_not_a_store_is_told_what_it_lacks(runtime: Any) -> None:
    with pytest.raises(ConfigurationError) as refused:
        runtime(_config(_LoadsOnly()))
    lacking = _lacking(str(refused.value))
    assert {"asave", "aload", "alock", "lock", "save", "local_cache_ttl"} <= set(lacking)
    assert "load" not in lacking


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_shared_store_runs_with_refresh_claims_and_a_local_one_without(
    runtime: Any, redis_url: str
) -> None:
    shared = runtime(_config(RedisSessionStore(redis_url)))
    local = runtime(_config(MemorySessionStore()))
    assert shared.engine.sessions.claims.enabled is True
    assert local.engine.sessions.claims.enabled is False


class _CountsHalf(MemorySessionStore, CountsLoginStarts):
    """Declares login counts shared by every process, with no awaitable twin."""

    def count_login_start(self, bucket: str, window: int) -> tuple[int, float]:
        return 1, float(window)


class _FollowsWithoutSaying(MemorySessionStore):
    """Tells the engine what changed, but does not declare it."""

    def follow_changes(self, forget: Callable[[str | None], None]) -> None:
        pass


class _EndsRevokedWithoutSaying(MemorySessionStore):
    """Claims the old attribute that made the engine trust a loaded session."""

    ends_revoked_sessions = True


class _SharedByDuckTyping(MemorySessionStore):
    """Every method of a shared store, but no declaration of it."""

    local_cache_ttl = 0.0
    shares_revocations = True

    def claim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        pass

    def save_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        return None

    def refresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        return None

    def drop_refresh_claim(self, session_id: str, claim: str) -> bool:
        return False

    async def aclaim_refresh(self, session_id: str, claim: str, ttl: int) -> None:
        pass

    async def asave_refreshed(self, record: SessionRecord, ttl: int, claim: str) -> str | None:
        return None

    async def arefresh_claimed(self, session_id: str, now: float) -> tuple[str, float] | None:
        return None

    async def adrop_refresh_claim(self, session_id: str, claim: str) -> bool:
        return False


class _SharedInNameOnly(MemorySessionStore, SharedSessionStore):
    """Declares itself shared and inherits the protocol's empty claim methods."""

    local_cache_ttl = 0.0
    shares_revocations = True


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_store_declaring_an_ability_it_lacks_part_of_is_refused_at_start_up(
    runtime: Any,
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        runtime(_config(_CountsHalf()))
    message = str(refused.value)
    assert "_CountsHalf declares stores.CountsLoginStarts" in message
    assert _lacking(message) == ["acount_login_start"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_declared_ability_left_to_the_protocols_empty_methods_is_refused(
    runtime: Any,
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        runtime(_config(_SharedInNameOnly()))
    assert "declares stores.SharedSessionStore" in str(refused.value)
    assert "save_refreshed" in _lacking(str(refused.value))


@pytest.mark.parametrize(
    ("store", "ability"),
    [
        (_FollowsWithoutSaying(), "FollowsChanges"),
        (_EndsRevokedWithoutSaying(), "EndsRevokedSessions"),
        (_SharedByDuckTyping(), "SharedSessionStore"),
    ],
)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_ability_offered_without_its_declaration_is_refused_not_ignored(
    runtime: Any, store: Any, ability: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        runtime(_config(store))
    message = str(refused.value)
    assert f"does not declare stores.{ability}" in message
    assert f"name {ability} among its bases" in message


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_kits_stores_are_run_with_what_they_declare(runtime: Any, redis_url: str) -> None:
    redis = RedisSessionStore(redis_url)
    try:
        shared = runtime(_config(redis)).engine
        local = runtime(_config(MemorySessionStore())).engine
        cookie = runtime(_config(CookieSessionStore(["k" * 32]))).engine
    finally:
        redis.close()
    assert shared.login.shared_login_counts is True
    assert shared.sessions.store_ends_revoked is True
    for engine in (local, cookie):
        assert engine.login.shared_login_counts is False
        assert engine.sessions.store_ends_revoked is False


class _CountsThroughAttributes(MemorySessionStore, CountsLoginStarts):
    """Declares login counts and provides them per object, as a wrapper might."""

    def __init__(self) -> None:
        super().__init__()
        self.count_login_start = lambda bucket, window: (1, float(window))
        self.acount_login_start = self._acount

    async def _acount(self, bucket: str, window: int) -> tuple[int, float]:
        return 1, float(window)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_ability_members_set_on_the_store_object_count_as_offered(runtime: Any) -> None:
    assert runtime(_config(_CountsThroughAttributes())).engine.login.shared_login_counts is True
