"""Several worker processes: sessions from ``AUTHONOMY_REDIS_URL``, and never silently in
one process's memory.

``AuthonomyConfig.from_env()`` puts sessions and webhook ids in the Redis that
``AUTHONOMY_REDIS_URL`` names, for every URL form the Redis stores take. An app whose
sessions stay in memory while several workers serve it logs an ERROR naming that
variable when it starts, through every adapter; an app on an event loop refuses a
session store it cannot await, at start-up rather than at a user's first request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from litestar.testing import TestClient as LitestarTestClient
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations._workers import several_workers
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisReplayStore, RedisSessionStore

from .adapters import ADAPTER_NAMES as ADAPTERS
from .adapters import example_app

URLS = [
    "redis://127.0.0.1:6379/0",
    "rediss://cache.internal:6380/1",
    "redis+cluster://redis-1:7000",
    "redis+sentinel://sentinel-1:26379,sentinel-2:26379/mymaster",
]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _environ(sb: Sandbox, **more: str) -> dict[str, str]:
    values = {
        "AUTHONOMY_ENVIRONMENT": "sandbox",
        "AUTHONOMY_API_KEY": sb.api_key,
        "AUTHONOMY_API_BASE_URL": sb.api_base_url,
        "AUTHONOMY_ISSUER": sb.issuer,
        "AUTHONOMY_AUDIENCE": sb.audience,
        "AUTHONOMY_CUSTOMER_ID": "acme-corp",
        "AUTHONOMY_APP_URL": "http://127.0.0.1:8000",
        "AUTHONOMY_SESSION_SECRET": "s" * 40,
        "AUTHONOMY_WEBHOOK_SECRET": "whsec_" + "a" * 32,
    }
    return {**values, **more}


# --- AUTHONOMY_REDIS_URL ------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_from_env_keeps_sessions_and_webhook_ids_in_the_redis_url(sb: Sandbox, url: str) -> None:
    config = AuthonomyConfig.from_env(_environ(sb, AUTHONOMY_REDIS_URL=url))
    assert isinstance(config.session_store, RedisSessionStore)
    assert config.session_store.url == url
    assert isinstance(config.replay_store, RedisReplayStore)


def test_from_env_without_a_redis_url_keeps_the_defaults(sb: Sandbox) -> None:
    config = AuthonomyConfig.from_env(_environ(sb, AUTHONOMY_REDIS_URL=""))
    assert config.session_store is None and config.replay_store is None


def test_a_store_passed_in_wins_over_the_redis_url(sb: Sandbox) -> None:
    mine = RedisSessionStore("redis://10.0.0.9:6379/2")
    config = AuthonomyConfig.from_env(_environ(sb, AUTHONOMY_REDIS_URL=URLS[0]), session_store=mine)
    assert config.session_store is mine
    assert isinstance(config.replay_store, RedisReplayStore)


def test_a_bad_redis_url_names_the_variable(sb: Sandbox) -> None:
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig.from_env(_environ(sb, AUTHONOMY_REDIS_URL="http://cache:6379"))
    assert failure.value.variable == "AUTHONOMY_REDIS_URL"
    assert str(failure.value).startswith("session_store (AUTHONOMY_REDIS_URL): unknown Redis")


def test_from_env_gives_the_redis_sessions_a_local_cache_when_asked(sb: Sandbox) -> None:
    environ = _environ(sb, AUTHONOMY_REDIS_URL=URLS[0], AUTHONOMY_REDIS_LOCAL_CACHE_TTL="2.5")
    config = AuthonomyConfig.from_env(environ)
    assert isinstance(config.session_store, RedisSessionStore)
    assert config.session_store.local_cache_ttl == 2.5
    unset = AuthonomyConfig.from_env(_environ(sb, AUTHONOMY_REDIS_URL=URLS[0]))
    assert isinstance(unset.session_store, RedisSessionStore)
    assert unset.session_store.local_cache_ttl == 0


@pytest.mark.parametrize("ttl", ["soon", "-1", "inf", "nan"])
def test_a_bad_local_cache_ttl_names_its_variable(sb: Sandbox, ttl: str) -> None:
    environ = _environ(sb, AUTHONOMY_REDIS_URL=URLS[0], AUTHONOMY_REDIS_LOCAL_CACHE_TTL=ttl)
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig.from_env(environ)
    assert failure.value.variable == "AUTHONOMY_REDIS_LOCAL_CACHE_TTL"


# --- what says several workers serve the app ------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "found"),
    [
        (["/venv/bin/uvicorn", "app:app", "--workers", "2"], {}, "uvicorn --workers 2"),
        (["/venv/bin/uvicorn", "app:app", "--workers=4"], {}, "uvicorn --workers 4"),
        (["/usr/lib/uvicorn/__main__.py", "app:app", "--workers", "3"], {}, "uvicorn --workers 3"),
        (["/venv/bin/gunicorn", "-w", "4", "app:app"], {}, "gunicorn --workers 4"),
        (["/venv/bin/gunicorn", "-w4", "app:app"], {}, "gunicorn --workers 4"),
        (["/venv/bin/gunicorn", "--workers=2", "app:app"], {}, "gunicorn --workers 2"),
        (["/venv/bin/gunicorn", "app:app"], {"WEB_CONCURRENCY": "3"}, "WEB_CONCURRENCY=3"),
        (["/venv/bin/uvicorn", "app:app", "--workers", "1"], {"WEB_CONCURRENCY": "4"}, None),
        (["/venv/bin/uvicorn", "app:app", "--reload"], {}, None),
        (["/venv/bin/flask", "run", "--port", "8000"], {}, None),
        (["/venv/bin/gunicorn", "app:app"], {"WEB_CONCURRENCY": "1"}, None),
    ],
)
def test_several_workers_are_recognised(
    argv: list[str], environ: dict[str, str], found: str | None
) -> None:
    assert several_workers(argv, environ) == found


def _start(adapter: str, config: AuthonomyConfig) -> None:
    """Build ``adapter``'s example app for ``config`` and start it, as its server would."""
    app: Any = example_app(adapter, config)
    if adapter == "starlette":
        with TestClient(app):  # the lifespan start builds the middleware
            pass
    if adapter == "litestar":
        try:
            with LitestarTestClient(app):  # the lifespan start checks the configuration
                pass
        except BaseExceptionGroup as group:  # how Litestar's test client raises it
            error: BaseException = group
            while isinstance(error, BaseExceptionGroup):
                error = error.exceptions[0]
            raise error from None


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_memory_sessions_under_several_workers_log_an_error_naming_the_fix(
    sb: Sandbox, adapter: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    _start(adapter, sb.config(app_url="http://localhost"))
    errors = [m for m in _errors(caplog) if "AUTHONOMY_REDIS_URL" in m]
    assert len(errors) == 1, _errors(caplog)
    assert "WEB_CONCURRENCY=4" in errors[0] and "signed out on the others" in errors[0]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_redis_sessions_under_several_workers_log_nothing(
    sb: Sandbox,
    adapter: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    store = RedisSessionStore(redis_url)
    _start(adapter, sb.config(app_url="http://localhost", session_store=store))
    store.close()
    assert _errors(caplog) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_one_worker_with_memory_sessions_logs_nothing(
    sb: Sandbox, adapter: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    _start(adapter, sb.config(app_url="http://localhost"))
    assert _errors(caplog) == []


def test_a_worker_forked_after_the_app_was_built_logs_the_error(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gunicorn --preload: the app, with its memory store, is built before the workers fork.
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    app = example_app("flask", sb.config(app_url="http://localhost"))
    report = tmp_path / "worker.log"
    handler = logging.FileHandler(report)
    logger = logging.getLogger("authonomy_integrations")
    logger.addHandler(handler)
    try:
        pid = os.fork()
        if pid == 0:  # the worker: the fork's report is written by now; leave at once
            os._exit(0)
        os.waitpid(pid, 0)
    finally:
        logger.removeHandler(handler)
        handler.close()
    logged = report.read_text()
    assert "forked from the process that built the app" in logged, logged
    assert "AUTHONOMY_REDIS_URL" in logged
    assert app.extensions  # the app, and its store, lived through the fork


# --- a blocking Redis client on an event loop ---------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_blocking_redis_client_is_refused_at_start_up_by_an_asyncio_app(
    sb: Sandbox, adapter: str, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    config = sb.config(app_url="http://localhost", session_store=RedisSessionStore(client=client))
    try:
        if adapter in ("flask", "django-wsgi"):
            _start(adapter, config)  # threads: the blocking client is what they use
            return
        with pytest.raises(ConfigurationError) as failure:
            _start(adapter, config)
        message = str(failure.value)
        assert message.startswith("session_store: RedisSessionStore has a blocking Redis client")
        assert "async_client=" in message and "AUTHONOMY_REDIS_URL" in message
    finally:
        client.close()
