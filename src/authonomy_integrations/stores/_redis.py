"""What the Redis session store and the Redis replay store share.

* importing redis-py, with an error naming the ``redis`` extra when it is missing;
* the clients: built from a URL (plain Redis, Redis Cluster, Sentinel) or adopted ready
  made, sync or ``redis.asyncio``; only the ones built here are closed here;
* key prefixes: the one given, else a default followed by the app's audience;
* keys with a hash tag, so every key about one session (or one delivery) lives in one
  Redis Cluster slot and nothing that touches several of them fails with ``CROSSSLOT``;
* Redis failures turned into :class:`~.._errors.StoreUnavailableError`;
* commands that must reach Redis in order: pipelined on one server, one by one on a
  Cluster (where a pipeline runs each node's share on its own).

URLs::

    redis://[[user]:password@]host:6379/0      one server (rediss:// for TLS, unix:// too)
    redis+cluster://host:7000                  a Redis Cluster, any node as the seed
    redis+sentinel://[[user]:password@]h1:26379,h2:26379/service[/db]
                                               the primary that Sentinel names for service
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

from .._errors import ConfigurationError, StoreUnavailableError

__all__ = [
    "Command",
    "KeyPrefix",
    "RedisClients",
    "check_prefix",
    "hash_tagged",
    "import_redis",
    "in_order",
    "in_order_async",
]

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
PLAIN_SCHEMES = {"redis", "rediss", "unix"}


def import_redis(field: str, owner: str) -> ModuleType:
    """redis-py with its asyncio, cluster and sentinel parts, or a ConfigurationError."""
    try:
        redis = importlib.import_module("redis")
        for part in ("asyncio", "cluster", "sentinel", "asyncio.cluster", "asyncio.sentinel"):
            importlib.import_module(f"redis.{part}")
    except ImportError:
        raise ConfigurationError(
            field,
            f"{owner} needs the 'redis' extra: pip install 'authonomy-integrations[redis]'",
        ) from None
    return redis


def check_prefix(prefix: str, field: str = "prefix") -> str:
    """``prefix`` if keys built on it keep their hash tag; else a ConfigurationError.

    A prefix may carry its own hash tag (``{myapp}:session:`` puts every key in one slot).
    An empty tag (``{}``) makes Redis hash the whole key, which would split a session's
    keys over several slots, so it is refused.
    """
    if not isinstance(prefix, str):
        raise ConfigurationError(field, "must be a string")
    opening = prefix.find("{")
    if opening != -1 and prefix[opening + 1 : opening + 2] == "}":
        raise ConfigurationError(field, "an empty hash tag '{}' would split a session's keys")
    return prefix


def hash_tagged(prefix: str, ident: str, suffix: str = "") -> str:
    """``prefix{ident}suffix``: every key of one ident hashes to the same cluster slot.

    Redis hashes the text between the first ``{`` and the next ``}``. With no brace in
    the prefix that is ``ident``; with one, it is text the keys of one ident share up
    to the closing brace written here. Either way all of an ident's keys share a slot.
    """
    return f"{prefix}{{{ident}}}{suffix}"


Command = tuple[str, tuple[Any, ...], dict[str, Any]]
"""One Redis command: the client method's name, its arguments and keyword arguments."""


def _is_cluster(client: Any) -> bool:
    return hasattr(client, "get_nodes")  # both RedisCluster classes, never a Redis


def in_order(client: Any, commands: Sequence[Command]) -> list[Any]:
    """Run ``commands`` one after another on a blocking client; their replies.

    On one server (or a Sentinel-managed primary) they go as one pipeline: one round
    trip, and one connection keeps their order. A Cluster pipeline would send each
    node's commands separately, in no order between nodes, so there they run one by one.
    """
    if _is_cluster(client):
        return [getattr(client, name)(*args, **options) for name, args, options in commands]
    pipe = client.pipeline(transaction=False)
    for name, args, options in commands:
        getattr(pipe, name)(*args, **options)
    return list(pipe.execute())


async def in_order_async(client: Any, commands: Sequence[Command]) -> list[Any]:
    """:func:`in_order` on a ``redis.asyncio`` client."""
    if _is_cluster(client):
        return [await getattr(client, name)(*args, **options) for name, args, options in commands]
    pipe = client.pipeline(transaction=False)
    for name, args, options in commands:
        getattr(pipe, name)(*args, **options)
    return list(await pipe.execute())


class KeyPrefix:
    """A store's key prefix: the one given, else ``default`` followed by the audience of
    the app the store serves, once it is bound (so apps sharing a Redis keep apart).

    One store object serves one app: binding a second audience is a ConfigurationError
    naming ``field``, unless a prefix was given (then the audience plays no part).
    """

    def __init__(self, given: str | None, default: str, *, owner: str, field: str) -> None:
        self._given = None if given is None else check_prefix(given)
        self._default = default
        self._owner = owner
        self._field = field
        self._audience: str | None = None

    @property
    def value(self) -> str:
        """The prefix in force."""
        if self._given is not None:
            return self._given
        if self._audience is not None:
            return f"{self._default}{self._audience}:"
        return self._default

    def bind(self, audience: str) -> None:
        """Serve the app whose tokens carry ``audience``."""
        if self._given is not None or self._audience == audience:
            return
        if self._audience is not None:
            raise ConfigurationError(
                self._field,
                f"this {self._owner} already serves the app {self._audience!r}; give "
                "each app its own store (or an explicit prefix=)",
            )
        self._audience = check_prefix(audience, "audience")


class RedisClients:
    """A blocking and an asyncio client for one Redis deployment, made or adopted.

    ``client`` may be any ready client (``redis.Redis``, ``redis.asyncio.Redis``, either
    ``RedisCluster``, or what ``Sentinel.master_for`` returns); an asyncio one is used for
    the async methods. ``url`` builds whichever client is missing, on first use, with
    ``timeout`` bounding how long one command may take (connect and reply, one retry
    included). Clients built here are closed by :meth:`close` / :meth:`aclose`; clients
    passed in are left to their owner.
    """

    def __init__(
        self,
        *,
        owner: str,
        field: str,
        url: str | None,
        client: Any,
        async_client: Any,
        timeout: float,
    ) -> None:
        redis = import_redis(field, owner)
        if client is not None and _is_async(redis, client):
            if async_client is not None:
                raise ConfigurationError(field, "client= is an asyncio client; give one of each")
            client, async_client = None, client
        if async_client is not None and not _is_async(redis, async_client):
            raise ConfigurationError(field, "async_client= must be a redis.asyncio client")
        if url is None and client is None and async_client is None:
            raise ConfigurationError(field, f"{owner} needs url= or a client")
        if url is not None:
            _check_url(url, field)
        if not timeout > 0:
            raise ConfigurationError("timeout", "must be a positive number of seconds")
        #: redis-py, imported (its exceptions are what :meth:`errors` wraps).
        self.redis = redis
        self.owner = owner
        self.field = field
        self.url = url
        self.timeout = float(timeout)
        self._client = client
        self._async_client = async_client
        self._owned: list[Any] = []
        self._async_owned: list[Any] = []
        self._guard = threading.Lock()

    @property
    def has_sync(self) -> bool:
        """Whether blocking calls can be made (a blocking client, or a URL to build one)."""
        return self._client is not None or self.url is not None

    @property
    def has_async(self) -> bool:
        """Whether asyncio calls can be made."""
        return self._async_client is not None or self.url is not None

    def sync(self) -> Any:
        """The blocking client, built from the URL on first use."""
        if self._client is None:
            if self.url is None:
                raise ConfigurationError(
                    self.field,
                    f"{self.owner} has no blocking client: pass url= or a blocking client",
                )
            with self._guard, self.errors():
                if self._client is None:
                    self._client, self._owned = self._build(asyncio=False)
        return self._client

    def async_(self) -> Any:
        """The asyncio client, built from the URL on first use (bound to that loop)."""
        if self._async_client is None:
            if self.url is None:
                raise ConfigurationError(
                    self.field,
                    f"{self.owner} has no asyncio client: pass url= or a redis.asyncio client",
                )
            with self.errors():
                self._async_client, self._async_owned = self._build(asyncio=True)
        return self._async_client

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn any Redis failure into :class:`StoreUnavailableError`."""
        try:
            yield
        except self.redis.exceptions.RedisError as exc:
            raise StoreUnavailableError(
                f"{self.owner}: Redis failed: {exc}", retry_after=self.retry_after
            ) from exc

    @property
    def retry_after(self) -> int:
        """Seconds to tell callers to wait: the command timeout, at least one."""
        return max(1, math.ceil(self.timeout))

    def close(self) -> None:
        """Close the blocking client if it was built here."""
        owned, self._owned = self._owned, []
        if owned:
            self._client = None
        for item in owned:
            item.close()

    async def aclose(self) -> None:
        """Close the asyncio client if it was built here."""
        owned, self._async_owned = self._async_owned, []
        if owned:
            self._async_client = None
        for item in owned:
            await item.aclose()

    # -- building clients from a URL ---------------------------------------------------

    def _connection_options(self, asyncio: bool) -> dict[str, Any]:
        # One retry, each attempt given half the budget: a command gives up within
        # ``timeout``, and a Sentinel failover is picked up by the retry.
        retry_module = importlib.import_module("redis.asyncio.retry" if asyncio else "redis.retry")
        backoff = importlib.import_module("redis.backoff")
        half = self.timeout / 2
        return {
            "socket_timeout": half,
            "socket_connect_timeout": half,
            "retry": retry_module.Retry(backoff.NoBackoff(), 1),
        }

    def _build(self, asyncio: bool) -> tuple[Any, list[Any]]:
        assert self.url is not None
        scheme = urlsplit(self.url).scheme.lower()
        options = self._connection_options(asyncio)
        if scheme in CLUSTER_SCHEMES:
            module = self.redis.asyncio.cluster if asyncio else self.redis.cluster
            url = CLUSTER_SCHEMES[scheme] + self.url[len(scheme) :]
            cluster = module.RedisCluster.from_url(url, **options)
            return cluster, [cluster]
        if scheme in SENTINEL_SCHEMES:
            return self._sentinel(asyncio, options)
        factory = self.redis.asyncio.Redis if asyncio else self.redis.Redis
        client = factory.from_url(self.url, **options)
        return client, [client]

    def _sentinel(self, asyncio: bool, options: dict[str, Any]) -> tuple[Any, list[Any]]:
        assert self.url is not None
        target = parse_sentinel_url(self.url, self.field)
        module = self.redis.asyncio.sentinel if asyncio else self.redis.sentinel
        sentinel_options = {k: options[k] for k in ("socket_timeout", "socket_connect_timeout")}
        sentinel = module.Sentinel(
            target.nodes, sentinel_kwargs=dict(sentinel_options), **sentinel_options
        )
        primary = sentinel.master_for(
            target.service,
            db=target.db,
            username=target.username,
            password=target.password,
            ssl=target.ssl,
            **options,
        )
        return primary, [primary, *sentinel.sentinels]


class SentinelTarget:
    """The parts of a ``redis+sentinel://`` URL."""

    def __init__(
        self,
        nodes: list[tuple[str, int]],
        service: str,
        db: int,
        username: str | None,
        password: str | None,
        ssl: bool,
    ) -> None:
        self.nodes = nodes
        self.service = service
        self.db = db
        self.username = username
        self.password = password
        self.ssl = ssl


def parse_sentinel_url(url: str, field: str = "url") -> SentinelTarget:
    """Split ``redis+sentinel://[user:password@]h1:p1,h2:p2/service[/db]``."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ConfigurationError(field, f"Sentinel address {item!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments or len(segments) > 2 or (len(segments) == 2 and not segments[1].isdigit()):
        raise ConfigurationError(field, "a Sentinel URL ends in /service_name or /service_name/db")
    username, _, password = userinfo.partition(":")
    if parts.query:
        raise ConfigurationError(field, "a Sentinel URL takes no query options")
    return SentinelTarget(
        nodes,
        segments[0],
        int(segments[1]) if len(segments) == 2 else 0,
        unquote(username) or None,
        unquote(password) or None,
        SENTINEL_SCHEMES[parts.scheme.lower()],
    )


def _check_url(url: str, field: str) -> None:
    if not isinstance(url, str):
        raise ConfigurationError(field, "the Redis URL must be a string")
    scheme = urlsplit(url).scheme.lower()
    if scheme in SENTINEL_SCHEMES:
        parse_sentinel_url(url, field)
    elif scheme not in PLAIN_SCHEMES and scheme not in CLUSTER_SCHEMES:
        known = ", ".join(sorted([*PLAIN_SCHEMES, *CLUSTER_SCHEMES, *SENTINEL_SCHEMES]))
        raise ConfigurationError(field, f"unknown Redis URL scheme {scheme!r}; use one of {known}")


def _is_async(redis: ModuleType, client: Any) -> bool:
    return isinstance(client, redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster)
