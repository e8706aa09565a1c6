"""Whether several worker processes serve the app, for stores that live in one of them.

Sessions in a process's memory (the default store) are seen by that process only: behind
``uvicorn --workers 2`` a user signed in on one worker is signed out on the next, which a
browser shows as a login loop. When the app starts, :func:`watch` looks for the signs
of several workers and logs an ERROR naming ``AUTHONOMY_REDIS_URL``:

* the server's command line (a worker has its parent's): ``uvicorn ... --workers N``,
  ``gunicorn -w N`` / ``--workers N``, with N > 1;
* ``WEB_CONCURRENCY`` > 1, which both servers read as their worker count;
* a fork after the app was built (``gunicorn --preload``, a pre-forking server), seen
  in the child.

A gunicorn worker count set only in a configuration file is not seen.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from .stores._base import SessionStore
from .stores._memory import MemorySessionStore

__all__ = ["several_workers", "watch"]

logger = logging.getLogger("authonomy_integrations")

_SERVERS = ("gunicorn", "uvicorn")
#: The options that set the worker count, by server.
_WORKER_OPTIONS = {"gunicorn": ("-w", "--workers"), "uvicorn": ("--workers",)}
_FIX = (
    "set AUTHONOMY_REDIS_URL (e.g. redis://127.0.0.1:6379/0, with "
    "pip install 'authonomy-integrations[redis]') so that every worker shares sessions "
    "and webhook ids, or pass session_store=RedisSessionStore(url)"
)

#: Stores of this process's apps that keep sessions in its memory: a fork copies them.
_in_memory: weakref.WeakSet[SessionStore] = weakref.WeakSet()


def watch(store: SessionStore) -> None:
    """Log an ERROR now, or after a fork, if ``store`` keeps sessions in this process
    while other processes serve the same app."""
    if not isinstance(store, MemorySessionStore):
        return
    _in_memory.add(store)
    how = several_workers(sys.argv, os.environ)
    if how is not None:
        _report(how)


def several_workers(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """What says that several workers serve this process's app (``"uvicorn --workers
    2"``, ``"WEB_CONCURRENCY=4"``), or ``None``."""
    server = _server(argv)
    count = _option_count(server, argv[1:]) if server is not None else None
    if count is not None:
        return f"{server} --workers {count}" if count > 1 else None
    concurrency = environ.get("WEB_CONCURRENCY", "").strip()
    if concurrency.isdigit() and int(concurrency) > 1:
        return f"WEB_CONCURRENCY={concurrency}"
    return None


def _server(argv: Sequence[str]) -> str | None:
    """``gunicorn`` or ``uvicorn`` when the command line runs one (``-m`` included)."""
    if not argv:
        return None
    path = PurePath(argv[0])
    name = path.parent.name if path.name == "__main__.py" else path.name
    return name if name in _SERVERS else None


def _option_count(server: str, arguments: Sequence[str]) -> int | None:
    """The worker count the command line gives, or ``None`` when it gives none."""
    count: str | None = None
    for index, argument in enumerate(arguments):
        for option in _WORKER_OPTIONS[server]:
            if argument == option and index + 1 < len(arguments):
                count = arguments[index + 1]
            elif argument.startswith(f"{option}="):
                count = argument.partition("=")[2]
            elif option == "-w" and argument.startswith("-w") and argument[2:].isdigit():
                count = argument[2:]
    return int(count) if count is not None and count.isdigit() else None


def _report(how: str) -> None:
    logger.error(
        "Sessions are kept in this process's memory, but %s: a user signed in on one "
        "worker is signed out on the others. For several workers, %s.",
        how,
        _FIX,
    )


def _forked() -> None:
    # Only apps built before the fork: their sessions now live in two processes.
    if len(_in_memory):
        _report("this worker was forked from the process that built the app")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)
