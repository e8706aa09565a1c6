"""The examples' configuration from the environment, for servers that run several workers.

Every ``AUTHONOMY_*`` variable configures the kit (see ``AuthonomyConfig.from_env``).
``AUTHONOMY_REDIS_URL`` puts sessions, their refresh locks and webhook ids in Redis,
shared by every worker and host: ``redis://host:6379/0``, ``redis+cluster://host:7000``
or ``redis+sentinel://host:26379,host2:26379/mymaster``. Without it they stay in each
process's memory, which is right for one worker only. ``AUTHONOMY_REDIS_LOCAL_CACHE_TTL``
(seconds, default 0) lets each worker keep decoded sessions in memory that long, told
through Redis when another worker changes or ends one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from authonomy_integrations import AuthonomyConfig, ConfigurationError

__all__ = ["config_from_env"]


def config_from_env(environ: Mapping[str, str] | None = None) -> AuthonomyConfig:
    """The configuration from ``environ`` (default ``os.environ``), with Redis stores
    when ``AUTHONOMY_REDIS_URL`` is set."""
    environ = os.environ if environ is None else environ
    url = environ.get("AUTHONOMY_REDIS_URL")
    if not url:
        return AuthonomyConfig.from_env(environ)
    from authonomy_integrations.stores import RedisReplayStore, RedisSessionStore

    cache_ttl = environ.get("AUTHONOMY_REDIS_LOCAL_CACHE_TTL", "0")
    sessions = RedisSessionStore(url, local_cache_ttl=_seconds(cache_ttl))
    return AuthonomyConfig.from_env(
        environ, session_store=sessions, replay_store=RedisReplayStore(url)
    )


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigurationError(
            "local_cache_ttl", "AUTHONOMY_REDIS_LOCAL_CACHE_TTL must be a number of seconds"
        ) from None
