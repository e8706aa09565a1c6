"""Several workers on one Redis: requests per second and latency over real HTTP.

The FastAPI example under uvicorn and the Flask example under gunicorn, each measured
with its sessions in memory (one worker: the only set-up where memory sessions are
right), in Redis with one worker, in Redis with four workers, and in Redis with four
workers that keep decoded sessions in memory (``local_cache_ttl``). The same number of
signed-in users send ``GET /api/me`` with their session cookie, one request in flight
each and a new connection per request (so requests spread over the workers as behind
a load balancer). Every answer must be a 200 for the right user. The load generator
runs in this process and shares the machine's cores with the servers, so the numbers
compare set-ups with each other rather than measure a ceiling.

``python -m benchmarks.workers_bench [--quick]``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from authonomy_integrations.sandbox import Sandbox

from . import _fleet as fleet
from ._harness import Row, SuiteResult, finish

GROUP = "several workers (HTTP, session cookie)"
USERS = 32
#: Name, store, workers, local_cache_ttl.
SETUPS = [("memory store, 1 worker", None, 1, 0), ("Redis, 1 worker", "redis", 1, 0)]
SETUPS.append(("Redis, 4 workers", "redis", 4, 0))
SETUPS.append(("Redis + local cache 30 s, 4 workers", "redis", 4, 30))


class RedisProcess:
    """A throwaway redis-server on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.port = fleet.free_port()
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@dataclass
class Sample:
    """One measured run of one set-up."""

    rps: float
    p50_ms: float
    p99_ms: float


def measure(
    kind: str, setup: str, store: str | None, workers: int, cache_ttl: float, seconds: float
) -> Sample:
    """Start the set-up afresh, sign the users in, warm up, then drive it for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sb:
        redis = RedisProcess(Path(tmp)) if store else None
        served = fleet.serve(
            kind,
            sb,
            workers=workers,
            redis_url=redis.url if redis else None,
            local_cache_ttl=cache_ttl,
            logdir=Path(tmp),
        )
        try:
            sessions = fleet.sign_in_many([served.url], USERS)
            fleet.drive(sessions, seconds=min(2.0, seconds))  # warm up
            load = fleet.drive(sessions, seconds=seconds)
        finally:
            served.stop()
            if redis is not None:
                redis.stop()
    if load.statuses != {200: load.requests} or load.wrong_user or load.errors:
        raise RuntimeError(f"{kind} {setup}: {load.statuses} {load.errors} {load.wrong_user}")
    return Sample(load.rps, load.percentile(0.50), load.percentile(0.99))


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    seconds, rounds = (3.0, 1) if quick else (8.0, 3)
    result = SuiteResult("workers")
    for kind in ("fastapi", "flask"):
        samples: dict[str, list[Sample]] = {setup: [] for setup, _, _, _ in SETUPS}
        for round_no in range(rounds):
            # Set-ups alternate, in an order rotated each round, so a busy spell of the
            # shared machine does not land on one of them only.
            shift = round_no % len(SETUPS)
            for setup, store, workers, cache_ttl in [*SETUPS[shift:], *SETUPS[:shift]]:
                sample = measure(kind, setup, store, workers, cache_ttl, seconds)
                samples[setup].append(sample)
                print(f"  {kind}: {setup}: {sample.rps:.0f} req/s", flush=True)
        base = statistics.median(s.rps for s in samples[SETUPS[0][0]])
        for setup, runs in samples.items():
            best = sorted(runs, key=lambda s: s.rps)[len(runs) // 2]  # the median run
            result.rows.append(
                Row(
                    GROUP,
                    f"{kind}: {setup}",
                    round(best.p50_ms * 1000, 1),
                    (round(best.p50_ms * 1000, 1), round(best.p99_ms * 1000, 1)),
                    round(best.rps / base, 3),
                    SETUPS[0][0],
                    f"{best.rps:.1f}",
                )
            )
    result.notes.append(
        f"several workers: {USERS} users, one request in flight each, a new connection per "
        f"request; the median of {rounds} runs of {seconds:.0f} s per set-up; the load "
        "generator shares the 2 cores with the servers and Redis"
    )
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
