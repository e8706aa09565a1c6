"""The examples' configuration from the environment, for servers that run several workers.

Every ``AUTHONOMY_*`` variable configures the kit (see ``AuthonomyConfig.from_env``), and
``AUTHONOMY_REDIS_URL`` puts sessions, their refresh locks and webhook ids in Redis,
shared by every worker and host: ``redis://host:6379/0``, ``redis+cluster://host:7000``
or ``redis+sentinel://host:26379,host2:26379/mymaster``. Without it they stay in each
process's memory, which is right for one worker only (the kit logs an error otherwise).
``AUTHONOMY_REDIS_LOCAL_CACHE_TTL`` (seconds, default 0) lets each worker keep decoded
sessions in memory that long, told through Redis when another worker changes or ends one.
"""

from __future__ import annotations

from collections.abc import Mapping

from authonomy_integrations import AuthonomyConfig

__all__ = ["config_from_env"]


def config_from_env(environ: Mapping[str, str] | None = None) -> AuthonomyConfig:
    """The configuration from ``environ`` (default ``os.environ``)."""
    return AuthonomyConfig.from_env(environ)
