"""RedisSessionStore: one Redis command per session request, revocations that end the
stored sessions of their sid, and the local cache's settings.

Commands are counted with ``INFO commandstats`` on every node the store talks to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore

from ..integration.helpers import sign_in
from ..redis_servers import RedisClusterSetup, cli
from .conftest import RecordFactory

#: Commands a client sends to set up or look after its connections, not per request.
_HOUSEKEEPING = {"info", "ping", "cluster", "client", "hello", "command", "select", "readonly"}


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(params=["server", "cluster"])
def deployment(request: pytest.FixtureRequest) -> tuple[str, list[int]]:
    """A Redis URL and the ports of its nodes: one server, a three-primary Cluster."""
    if request.param == "server":
        url = str(request.getfixturevalue("redis_url"))
        return url, [int(url.rsplit(":", 1)[1].split("/")[0])]
    cluster: RedisClusterSetup = request.getfixturevalue("redis_cluster")
    return cluster.url, cluster.ports


def commands_run(ports: list[int]) -> int:
    """How many commands the nodes on ``ports`` have run, connection upkeep aside."""
    total = 0
    for port in ports:
        for line in cli(port, "info", "commandstats").splitlines():
            name, _, stats = line.partition(":")
            if name.startswith("cmdstat_") and name[8:].split("|")[0] not in _HOUSEKEEPING:
                total += int(stats.split(",")[0].removeprefix("calls="))
    return total


@pytest.mark.parametrize("cache_ttl, commands", [(0, 1), (30, 0)])
def test_a_session_request_costs_one_redis_command_and_none_from_the_cache(
    sb: Sandbox, deployment: tuple[str, list[int]], cache_ttl: int, commands: int
) -> None:
    url, ports = deployment
    store = RedisSessionStore(url, local_cache_ttl=cache_ttl)
    kit = AuthonomySync(sb.config().replace(session_store=store), clock=sb.state.clock.now)
    try:
        cookie = sign_in(kit).session_cookie
        for _ in range(2):
            # The sign-in's own change messages reach the cache later, and may empty it.
            kit.authenticate_session(cookie)
            assert store.changes_received() == bool(cache_ttl)
        before = commands_run(ports)
        assert kit.authenticate_session(cookie).user is not None
        assert commands_run(ports) - before == commands
    finally:
        kit.close()
        store.close()


async def test_an_asyncio_session_request_costs_one_redis_command(
    sb: Sandbox, redis_url: str
) -> None:
    store = RedisSessionStore(redis_url)
    signing_in = AuthonomySync(sb.config().replace(session_store=store))
    cookie = sign_in(signing_in).session_cookie
    signing_in.close()
    kit = AuthonomyAsync(sb.config().replace(session_store=store))
    port = [int(redis_url.rsplit(":", 1)[1].split("/")[0])]
    try:
        await kit.authenticate_session(cookie)
        before = commands_run(port)
        assert (await kit.authenticate_session(cookie)).user is not None
        assert commands_run(port) - before == 1
    finally:
        await kit.aclose()
        await store.aclose()
        store.close()


def test_revoking_a_sid_deletes_its_sessions_for_every_store(
    redis_url: str, prefix: str, make_record: RecordFactory
) -> None:
    mine, other = (RedisSessionStore(redis_url, prefix=prefix) for _ in range(2))
    record, bystander = make_record(), make_record()
    mine.save(record, ttl=600)
    mine.save(bystander, ttl=600)
    other.revoke_sid(record.claims["sid"], ttl=600)
    assert mine.load(record.id) is None
    assert other.is_sid_revoked(record.claims["sid"])
    assert mine.load(bystander.id) == bystander
    mine.close()
    other.close()


async def test_revoking_a_sid_deletes_its_sessions_async(
    redis_url: str, prefix: str, make_record: RecordFactory
) -> None:
    store = RedisSessionStore(redis_url, prefix=prefix)
    record = make_record()
    await store.asave(record, ttl=600)
    await store.arevoke_sid(record.claims["sid"], ttl=600)
    assert await store.aload(record.id) is None
    await store.aclose()


def test_a_session_saved_after_its_sid_was_revoked_is_not_served(
    redis_url: str, prefix: str, make_record: RecordFactory
) -> None:
    # A touch or refresh in another worker that saves just after the revocation.
    store = RedisSessionStore(redis_url, prefix=prefix)
    record = make_record()
    store.revoke_sid(record.claims["sid"], ttl=600)
    store.save(record, ttl=600)
    assert store.load(record.id) is None
    store.close()


def test_a_session_saved_by_an_earlier_version_is_refused_once_its_sid_is_revoked(
    redis_url: str, prefix: str, make_record: RecordFactory
) -> None:
    # Saved as before (no "i" mark, no sid index): the revocation cannot delete it.
    store = RedisSessionStore(redis_url, prefix=prefix)
    record = make_record()
    with redis.Redis.from_url(redis_url) as client:
        client.set(store.key(record.id), record.to_bytes(), ex=600)
    assert store.load(record.id) == record
    store.revoke_sid(record.claims["sid"], ttl=600)
    assert store.load(record.id) is None
    store.close()


@pytest.mark.parametrize("ttl", [-1, "30", True, float("nan")])
def test_a_local_cache_ttl_that_is_not_seconds_is_a_configuration_error(
    redis_url: str, ttl: object
) -> None:
    with pytest.raises(ConfigurationError, match="local_cache_ttl"):
        RedisSessionStore(redis_url, local_cache_ttl=ttl)  # type: ignore[arg-type]


async def test_a_local_cache_on_an_asyncio_client_alone_is_a_configuration_error(
    redis_url: str,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    with pytest.raises(ConfigurationError, match="local_cache_ttl needs url= or a blocking"):
        RedisSessionStore(client=client, local_cache_ttl=5)
    await client.aclose()
