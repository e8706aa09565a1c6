"""Which stores the kit accepts, decided by the declared protocols at start-up: a store
with only part of what a session store or a shared store must offer is refused with the
names it lacks, never run half-way (a shared store without its refresh claims would
let two processes present the same spent refresh token)."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig, ConfigurationError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.stores import MemorySessionStore, RedisSessionStore

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
