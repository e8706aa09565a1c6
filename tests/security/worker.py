"""One app worker process for the revocation tests: ``python -m tests.security.worker
ADAPTER``. The configuration comes from ``AUTHONOMY_*`` variables, sessions live in the
Redis at ``REDIS_URL``. It prints its URL, serves until its stdin closes, then exits."""

from __future__ import annotations

import os
import sys
import time

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.stores import RedisSessionStore

from .apps import ADAPTERS


def main(adapter_name: str) -> None:
    adapter = next(a for a in ADAPTERS if a.name == adapter_name)
    store = RedisSessionStore(os.environ["REDIS_URL"])

    def config_for(url: str) -> AuthonomyConfig:
        return AuthonomyConfig.from_env(app_url=url, session_store=store)

    with adapter.serve(config_for, time.time) as url:
        print(url, flush=True)
        sys.stdin.read()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1])
