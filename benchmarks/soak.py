"""The soak: logins, browsing, refreshes, logouts and webhook deliveries against both
example apps on several workers sharing one Redis, while Redis is restarted now and
then. ``python -m benchmarks.soak [--quick]`` runs ten minutes (one with ``--quick``);
the test suite runs a shorter one through :func:`run`.

What it checks at the end, with Redis up again:

- no request was answered 500, and no session that was not logged out was ever
  refused (a 401 would be a silent sign-out); while Redis was down the answer was 503;
- every confirmed login still has its session, every confirmed logout has none;
- every acknowledged webhook ran its handler exactly once and is remembered as done;
- every key in Redis expires (has a TTL), and there are no more keys than the soak's
  sessions, locks and webhook ids could account for;
- each worker's resident memory at the end is within a small margin of what it was
  once warmed up.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore

from . import _fleet as fleet
from ._harness import Row, SuiteResult, Target, finish

#: Token lifetime and refresh margin: a session comes due every DUE seconds.
TOKEN_TTL = 20
MARGIN = 12
#: The soak signs in faster than Authonomy's per-key limits allow; it tests Redis.
RATE_LIMITS = {"authentication": 1_000_000, "management": 1_000_000}
#: Growth of a worker's memory, warmed-up to end, still counted as flat.
FLAT_MB = 12.0
#: What an app logs when it finds a refresh claim whose owner is gone.
ABANDONED_CLAIM = "a refresh claim outlived its owner"
#: The replay store's default prefix; the apps' audience follows it.
WEBHOOK_PREFIX = "authonomy:webhook:"


@dataclass
class SoakReport:
    """Everything the soak counted."""

    seconds: float = 0.0
    restarts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    #: Requests that got no answer at all (connection refused, 30 s without a reply).
    unanswered: Counter[str] = field(default_factory=Counter)
    #: Live sessions (not logged out) that were answered 401 at least once.
    lost: set[str] = field(default_factory=set)
    #: Sessions whose logout was answered 503 (so they went on) at least once.
    logout_refused_for: set[str] = field(default_factory=set)
    #: Sessions Authonomy revoked because a refresh token came back after its grace
    #: window. A worker keeps a refresh that Redis failed to save and writes it back,
    #: so this stays 0 unless a worker exited with a refresh unsaved.
    refresh_reuse_revocations: int = 0
    #: Refresh claims the apps found without their owner (a worker that exited while
    #: Redis was down, its refreshed tokens unsaved): the one way an outage may cost a
    #: session (``docs/workers.md``, "What holds").
    abandoned_claims: int = 0
    logins: int = 0
    logins_failed: int = 0
    logouts: int = 0
    logouts_refused: int = 0
    webhooks: Counter[str] = field(default_factory=Counter)
    webhooks_acknowledged: set[str] = field(default_factory=set)
    refreshes: int = 0
    memory_mb: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    keys: int = 0

    def memory_growth(self) -> dict[str, float]:
        """Per worker: resident MB at the end minus once warmed up (a quarter in)."""
        growth = {}
        for worker, samples in self.memory_mb.items():
            warm = [mb for at, mb in samples if at >= self.seconds / 4]
            if len(warm) >= 2:
                growth[worker] = warm[-1] - warm[0]
        return growth


class _Soak:
    def __init__(self, apps: Sequence[fleet.Served], report: SoakReport, stop: float) -> None:
        self.apps = apps
        self.report = report
        self.stop_at = stop
        self.live: list[fleet.Session] = []
        self.ended: list[fleet.Session] = []
        self.ending: set[str] = set()

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    async def login(self) -> None:
        count = 0
        while self.running():
            app = self.apps[count % len(self.apps)]
            user = fleet.USERS[count % len(fleet.USERS)]
            count += 1
            try:
                session = await asyncio.to_thread(fleet.sign_in, app.url, user)
            except (AssertionError, httpx.HTTPError, RuntimeError, ValueError):
                self.report.logins_failed += 1  # Redis down mid-login: not confirmed
            else:
                self.report.logins += 1
                self.live.append(session)
            await asyncio.sleep(0.3)

    async def browse(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            while self.running():
                if not self.live:
                    await asyncio.sleep(0.05)
                    continue
                session = random.choice(self.live)
                try:
                    answer = await http.get(
                        f"{session.app}/api/me",
                        headers={"accept": "application/json", "cookie": _cookie(session)},
                    )
                except httpx.HTTPError as exc:
                    self.report.unanswered[type(exc).__name__] += 1
                    continue
                if session.cookie in self.ending:
                    continue  # logged out meanwhile: its 401 is the expected answer
                self.report.statuses[answer.status_code] += 1
                if answer.status_code == 401:
                    self.report.lost.add(session.cookie)
                elif answer.status_code == 200 and answer.json()["id"] != session.user_id:
                    self.report.problems.append("a session answered for another user")
                elif answer.status_code == 503:
                    await asyncio.sleep(0.1)

    async def logout(self) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            while self.running():
                await asyncio.sleep(1.0)
                if len(self.live) < 4:
                    continue
                session = self.live.pop(random.randrange(len(self.live)))
                self.ending.add(session.cookie)
                try:
                    answer = await http.post(
                        f"{session.app}/auth/logout",
                        headers={"cookie": _cookie(session), "sec-fetch-site": "same-origin"},
                    )
                except httpx.HTTPError as exc:
                    self.report.unanswered[type(exc).__name__] += 1
                    answer = None
                if answer is not None and answer.status_code == 303:
                    self.report.logouts += 1
                    self.ended.append(session)
                else:  # not confirmed (Redis down): the session goes on
                    self.report.logouts_refused += 1
                    self.report.logout_refused_for.add(session.cookie)
                    self.ending.discard(session.cookie)
                    self.live.append(session)

    async def webhooks(self) -> None:
        async def one(event_id: str, app: fleet.Served) -> None:
            headers, body = fleet.delivery(event_id)
            async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
                while True:  # Authonomy retries until acknowledged
                    try:
                        answer = await http.post(
                            "/webhooks/authonomy", content=body, headers=headers
                        )
                    except httpx.HTTPError as exc:
                        self.report.unanswered[type(exc).__name__] += 1
                        answer = None
                    if answer is not None and answer.status_code == 200:
                        if not answer.json()["data"].get("duplicate"):
                            self.report.webhooks[event_id] += 1
                        self.report.webhooks_acknowledged.add(event_id)
                        return
                    await asyncio.sleep(0.3)

        pending: list[asyncio.Task[None]] = []
        count = 0
        while self.running():
            event_id = fleet.new_event_ids(1)[0]
            app = self.apps[count % len(self.apps)]
            count += 1
            # Two copies at once, as a retry can overlap the first attempt.
            pending += [asyncio.create_task(one(event_id, app)) for _ in range(2)]
            await asyncio.sleep(0.25)
        await asyncio.wait_for(asyncio.gather(*pending), fleet.PATIENCE)

    async def sample_memory(self, started: float) -> None:
        while self.running():
            for app in self.apps:
                for pid, mb in app.worker_rss_mb().items():
                    key = f"{app.kind} worker {pid}"
                    at = time.monotonic() - started
                    self.report.memory_mb.setdefault(key, []).append((at, mb))
            await asyncio.sleep(1.0)


def _cookie(session: fleet.Session) -> str:
    return f"{fleet.COOKIE}={session.cookie}"


def run(
    sb: Sandbox,
    apps: Sequence[fleet.Served],
    redis_url: str,
    restart_redis: Callable[[], None],
    *,
    seconds: float,
    restart_every: float,
    browsers: int = 12,
) -> SoakReport:
    """Soak ``apps`` for ``seconds``, restarting Redis every ``restart_every`` seconds,
    then account for everything that was confirmed."""
    report = SoakReport()
    refreshes_before = sb.request_count("POST", "/v1/auth/refresh")
    started = time.monotonic()
    soak = _Soak(apps, report, started + seconds)
    restarts = fleet.Ticker(restart_every, restart_redis)

    async def main() -> None:
        await asyncio.gather(
            soak.login(),
            soak.logout(),
            soak.webhooks(),
            soak.sample_memory(started),
            *(soak.browse() for _ in range(browsers)),
        )

    with restarts:
        asyncio.run(main())
    report.seconds = time.monotonic() - started
    report.restarts = restarts.runs
    report.refreshes = sb.request_count("POST", "/v1/auth/refresh") - refreshes_before
    report.refresh_reuse_revocations = sum(
        entry.reason == "refresh_token_reuse" for entry in sb.state.activity.revoked_sessions
    )
    report.abandoned_claims = sum(
        app.log.read_text(errors="replace").count(ABANDONED_CLAIM) for app in apps
    )
    # The sandbox sends the apps its own events too (sign-ins, refreshes, logouts).
    sandbox_events = len({delivery.event_id for delivery in sb.deliveries})
    _account(report, soak, redis_url, sandbox_events, sb.audience)
    return report


def _account(
    report: SoakReport, soak: _Soak, redis_url: str, sandbox_events: int, audience: str
) -> None:
    """With Redis up: every confirmed action is where it should be."""
    store = RedisSessionStore(redis_url)
    store.bind_audience(audience)  # the apps' key prefix
    raw = redis.Redis.from_url(redis_url)
    try:
        fleet.wait_until(lambda: _reachable(raw), "Redis after the soak")
        for session in soak.live:
            record = store.load(session.cookie)
            if record is None or record.claims.get("sub") != session.user_id:
                report.problems.append(f"a confirmed login lost its session ({session.app})")
        for session in soak.ended:
            if store.load(session.cookie) is not None:
                report.problems.append("a confirmed logout left its session behind")
        with httpx.Client(timeout=30) as http:
            for session in [*soak.live[:20], *soak.ended[:20]]:
                answer = http.get(
                    f"{session.app}/api/me",
                    headers={"accept": "application/json", "cookie": _cookie(session)},
                )
                expected = 401 if session in soak.ended else 200
                if answer.status_code != expected:
                    report.problems.append(
                        f"after the soak a session answered {answer.status_code}"
                    )
        for event_id in report.webhooks_acknowledged:
            if report.webhooks[event_id] != 1:
                report.problems.append(f"webhook {event_id} ran {report.webhooks[event_id]} times")
            if raw.get(f"{WEBHOOK_PREFIX}{audience}:{{{event_id}}}") != b"done":
                report.problems.append(f"webhook {event_id} is not remembered as done")
        keys = list(raw.scan_iter(count=1000))
        report.keys = len(keys)
        forever = [key for key in keys if raw.ttl(key) == -1]
        if forever:
            report.problems.append(f"{len(forever)} Redis keys never expire, e.g. {forever[0]!r}")
        # A session and its lock per login, a marker per webhook id, a little slack.
        bound = 2 * (report.logins + 1) + len(report.webhooks_acknowledged) + sandbox_events
        bound += 100
        if len(keys) > bound:
            report.problems.append(f"{len(keys)} Redis keys, more than the soak made ({bound})")
    finally:
        store.close()
        raw.close()
    for worker, growth in report.memory_growth().items():
        if growth > FLAT_MB:
            report.problems.append(f"{worker} grew {growth:.1f} MB once warmed up")


def _reachable(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def summary(report: SoakReport) -> list[tuple[str, str]]:
    """What the report says, line by line."""
    growth = report.memory_growth()
    worst = max(growth.values()) if growth else 0.0
    return [
        ("duration", f"{report.seconds:.0f} s, Redis restarted {report.restarts} times"),
        ("requests", ", ".join(f"{n} x {s}" for s, n in sorted(report.statuses.items()))),
        (
            "logins",
            f"{report.logins} confirmed, {report.logins_failed} failed while Redis was down",
        ),
        ("logouts", f"{report.logouts} confirmed, {report.logouts_refused} answered 503"),
        ("refreshes", f"{report.refreshes} at Authonomy"),
        (
            "webhooks",
            f"{len(report.webhooks_acknowledged)} acknowledged, "
            f"{sum(report.webhooks.values())} handler runs",
        ),
        (
            "sessions lost",
            f"{len(report.lost)} ({len(report.lost & report.logout_refused_for)} "
            "after a logout answered 503)",
        ),
        ("refresh tokens revoked for reuse", str(report.refresh_reuse_revocations)),
        ("refresh claims left by an exited worker", str(report.abandoned_claims)),
        (
            "requests without an answer",
            ", ".join(f"{n} x {e}" for e, n in report.unanswered.items()) or "none",
        ),
        ("Redis keys at the end", f"{report.keys}, every one with a TTL"),
        ("worst worker memory growth once warmed up", f"{worst:.1f} MB"),
        (
            "problems",
            f"{len(report.problems)}: " + "; ".join(sorted(set(report.problems))[:5])
            if report.problems
            else "none",
        ),
    ]


class _RestartableRedis:
    """redis-server with append-only persistence, killed and restarted on demand."""

    def __init__(self, workdir: Path) -> None:
        self.port = fleet.free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
                *("--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        fleet.wait_until(lambda: _reachable(client), "redis-server")
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(30)
            self.process = None

    def restart(self) -> None:
        with self.lock:
            self.stop()
            self.start()


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    seconds, workers = (60.0, 2) if quick else (600.0, 4)
    result = SuiteResult("soak")
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(
            token_ttl=TOKEN_TTL,
            rate_limits=RATE_LIMITS,
            webhook_retry_schedule=(0.5, 1.0, 2.0, 5.0, 10.0),
        ) as sb,
    ):
        server = _RestartableRedis(Path(tmp))
        apps = [
            fleet.serve(
                kind,
                sb,
                workers=workers,
                redis_url=server.url,
                refresh_margin=MARGIN,
                logdir=Path(tmp),
            )
            for kind in ("fastapi", "flask")
        ]
        try:
            report = run(sb, apps, server.url, server.restart, seconds=seconds, restart_every=30)
        finally:
            for app in apps:
                app.stop()
            server.stop()
    for name, text in summary(report):
        print(f"  {name}: {text}", flush=True)
        result.rows.append(Row("soak", name, 0.0, (0.0, 0.0), None, None, text))
    result.targets.append(
        Target(
            f"soak: {seconds / 60:.0f} min, {workers} workers per app, Redis restarts",
            "no 500, no session lost (but to a worker exiting with a refresh unsaved), "
            "every confirmed action accounted for, flat memory",
            f"{len(report.problems)} problems, {len(report.lost)} lost, "
            f"{report.statuses.get(500, 0)} x 500, {sum(report.unanswered.values())} unanswered",
            not report.problems
            and len(report.lost) <= report.abandoned_claims
            and not report.statuses.get(500)
            and not report.unanswered,
        )
    )
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
