"""Several workers of each example app sharing one Redis, and a load generator for them.

Used by the many-workers benchmark, the soak, and the tests that check what they
promise: the FastAPI example under ``uvicorn --workers N`` and the Flask example under
``gunicorn -w N``, both configured from the environment (``examples/environment.py``),
talking to an embedded sandbox on 127.0.0.1. Users sign in through the apps' real
routes; the load generator then sends their requests with a bounded number in flight
and records every status and latency.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from authonomy_integrations import AuthonomyClient
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import login_as
from authonomy_integrations.webhooks import EVENT_TYPES, sign

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "authonomy_session"
#: Seeded sandbox users who sign in to ``acme-corp`` (alice with MFA).
USERS = ("alice", "bob")
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"several-workers-webhook-secret!!").decode()
#: Longest wait for a server to start or a delivery to be acknowledged, in seconds.
PATIENCE = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    """Poll ``condition`` until true; ``TimeoutError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class Served:
    """One example app served by several worker processes."""

    kind: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int

    def worker_pids(self) -> list[int]:
        """The worker processes: the server's children (its multiprocessing helpers too)."""
        if self.kind == "fastapi" and self.workers == 1:
            return [self.process.pid]  # uvicorn serves in its own process then
        pids: list[int] = []
        tasks = Path(f"/proc/{self.process.pid}/task")
        for task in tasks.iterdir() if tasks.exists() else ():
            with contextlib.suppress(OSError):
                pids += [int(pid) for pid in (task / "children").read_text().split()]
        return pids

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker, in MB."""
        sizes: dict[int, float] = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1]) / 1024
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


def app_environment(
    sb: Sandbox,
    app_url: str,
    redis_url: str | None,
    refresh_margin: int,
    local_cache_ttl: float = 0,
) -> dict[str, str]:
    """What a deployment sets: the sandbox's settings, secrets, and the Redis URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHONOMY_")}
    env.update(
        AUTHONOMY_ENVIRONMENT="sandbox",
        AUTHONOMY_API_KEY=sb.api_key,
        AUTHONOMY_API_BASE_URL=sb.api_base_url,
        AUTHONOMY_ISSUER=sb.issuer,
        AUTHONOMY_AUDIENCE=sb.audience,
        AUTHONOMY_CUSTOMER_ID="acme-corp",
        AUTHONOMY_APP_URL=app_url,
        AUTHONOMY_SESSION_SECRET="s" * 43,
        AUTHONOMY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        AUTHONOMY_REFRESH_MARGIN=str(refresh_margin),
        # Every simulated browser signs in from 127.0.0.1, and with Redis the whole fleet
        # counts login starts together: one address's allowance would throttle the load.
        AUTHONOMY_LOGIN_RATE_LIMIT="0",
    )
    if redis_url is not None:
        env["AUTHONOMY_REDIS_URL"] = redis_url
        env["AUTHONOMY_REDIS_LOCAL_CACHE_TTL"] = str(local_cache_ttl)
    return env


def serve(
    kind: str,
    sb: Sandbox,
    *,
    workers: int,
    redis_url: str | None,
    refresh_margin: int = 60,
    local_cache_ttl: float = 0,
    logdir: Path,
) -> Served:
    """Start ``kind`` ("fastapi" under uvicorn, "flask" under gunicorn) with ``workers``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_environment(sb, url, redis_url, refresh_margin, local_cache_ttl)
    if kind == "fastapi":
        command = [
            *(sys.executable, "-m", "uvicorn", "examples.fastapi_app.asgi:app"),
            *("--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)),
            *("--log-level", "warning", "--no-access-log"),
        ]
    else:
        command = [
            *(sys.executable, "-m", "gunicorn", "-w", str(workers)),
            *("-b", f"127.0.0.1:{port}", "--log-level", "warning"),
            "examples.flask_app.wsgi:app",
        ]
    log = logdir / f"{kind}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    served = Served(kind, url, process, log, workers)
    try:
        wait_until(lambda: process.poll() is None and _answers(url + "/"), f"{kind} on {url}")
        wait_until(lambda: len(served.worker_pids()) >= workers, f"{workers} {kind} workers")
    except TimeoutError:
        served.stop()
        raise RuntimeError(f"{kind} did not start; its log:\n{log.read_text()}") from None
    # Authonomy sends the app its events, as a deployment would subscribe.
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as client:
        client.webhooks.create(
            url=f"{url}/webhooks/authonomy", events=list(EVENT_TYPES), secret=WEBHOOK_SECRET
        )
    return served


# -- users ------------------------------------------------------------------------------


@dataclass
class Session:
    """A signed-in browser: which app, which user, its session cookie."""

    app: str
    user_id: str
    cookie: str


def sign_in(app_url: str, user: str) -> Session:
    """Sign ``user`` in through the app's login route and the sandbox's hosted pages."""
    with httpx.Client(base_url=app_url, timeout=30) as browser:
        login_as(browser, user)
        cookie = browser.cookies.get(COOKIE)
    if cookie is None:
        raise AssertionError(f"signing {user} in at {app_url} set no session cookie")
    return Session(app_url, f"user_{user}", cookie)


def sign_in_many(app_urls: Sequence[str], per_app: int, threads: int = 8) -> list[Session]:
    """``per_app`` sessions on each app, alternating the seeded users, signed in at once."""
    jobs = [(url, USERS[i % len(USERS)]) for url in app_urls for i in range(per_app)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda job: sign_in(*job), jobs))


# -- load -------------------------------------------------------------------------------


@dataclass
class Load:
    """What the load generator saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wrong_user: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Latency in milliseconds below which ``share`` of the requests finished."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def _drive(
    sessions: Sequence[Session],
    stop: Callable[[], bool],
    path: str,
    load: Load,
    tolerated: frozenset[int],
    parallel: int,
) -> None:
    # A new connection per request: a user's requests land on any worker, as behind a
    # load balancer, instead of sticking to the worker that accepted a kept-alive one.
    limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=0)

    async def loop(http: httpx.AsyncClient, session: Session) -> None:
        while not stop():
            started = time.perf_counter()
            try:
                answer = await http.get(path, headers={"accept": "application/json"})
            except httpx.HTTPError as exc:
                load.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            load.latencies.append(time.perf_counter() - started)
            load.statuses[answer.status_code] += 1
            if answer.status_code == 200 and answer.json().get("id") != session.user_id:
                load.wrong_user += 1
            elif answer.status_code in tolerated:
                # Told to come back later: a browser would wait before retrying.
                await asyncio.sleep(0.1)

    async def user(session: Session) -> None:
        async with httpx.AsyncClient(base_url=session.app, timeout=30, limits=limits) as http:
            http.cookies.set(COOKIE, session.cookie)
            await asyncio.gather(*(loop(http, session) for _ in range(parallel)))

    started = time.perf_counter()
    await asyncio.gather(*(user(s) for s in sessions))
    load.seconds = time.perf_counter() - started


def drive(
    sessions: Sequence[Session],
    *,
    seconds: float | None = None,
    until: Callable[[], bool] | None = None,
    path: str = "/api/me",
    tolerated: Sequence[int] = (),
    parallel: int = 1,
) -> Load:
    """Every session requests ``path`` in a loop, ``parallel`` requests in flight at
    once (a page loading several resources), for ``seconds`` or until ``until()`` holds
    (checked between requests)."""
    deadline = time.monotonic() + (seconds if seconds is not None else PATIENCE)
    condition = until or (lambda: False)
    load = Load()
    asyncio.run(
        _drive(
            sessions,
            lambda: time.monotonic() > deadline or condition(),
            path,
            load,
            frozenset(tolerated),
            parallel,
        )
    )
    return load


# -- webhooks ---------------------------------------------------------------------------


def delivery(event_id: str, event_type: str = "user.authenticated") -> tuple[dict[str, str], bytes]:
    """A delivery signed as Authonomy signs it."""
    body = json.dumps(
        {"id": event_id, "type": event_type, "timestamp": "2026-01-01T00:00:00Z", "data": {}}
    ).encode()
    headers = {**sign(WEBHOOK_SECRET, event_id, int(time.time()), body)}
    headers["content-type"] = "application/json"
    return headers, body


@dataclass
class Deliveries:
    """Per event id: how many answers ran the handlers, and whether it was acknowledged."""

    handled: Counter[str] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)


async def _deliver(
    app_urls: Sequence[str], event_ids: Sequence[str], copies: int, deadline: float
) -> Deliveries:
    result = Deliveries()

    async def one(http: httpx.AsyncClient, event_id: str) -> None:
        headers, body = delivery(event_id)
        while time.monotonic() < deadline:
            try:
                answer = await http.post("/webhooks/authonomy", content=body, headers=headers)
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
                continue
            result.statuses[answer.status_code] += 1
            if answer.status_code == 200:
                data = answer.json()["data"]
                if not data.get("duplicate"):
                    result.handled[event_id] += 1
                result.acknowledged.add(event_id)
                return
            # Not acknowledged (409 in progress, 503 store out of reach): Authonomy retries.
            await asyncio.sleep(0.2)

    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in app_urls]
    try:
        await asyncio.gather(
            *(
                one(clients[(index + copy) % len(clients)], event_id)
                for index, event_id in enumerate(event_ids)
                for copy in range(copies)
            )
        )
    finally:
        for client in clients:
            await client.aclose()
    return result


def deliver(app_urls: Sequence[str], event_ids: Sequence[str], copies: int = 3) -> Deliveries:
    """Send every event ``copies`` times at once, spread over the apps, retrying each
    copy until it is acknowledged (as Authonomy retries a delivery that got no 2xx)."""
    return asyncio.run(_deliver(app_urls, event_ids, copies, time.monotonic() + PATIENCE))


def new_event_ids(count: int) -> list[str]:
    return [f"evt_{secrets.token_hex(8)}" for _ in range(count)]


class Throttled:
    """``check()`` re-evaluated at most every ``every`` seconds; ``last`` is its answer."""

    def __init__(self, check: Callable[[], bool], every: float) -> None:
        self._check = check
        self._every = every
        self._at = float("-inf")
        self.last = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._at >= self._every:
            self._at = now
            self.last = self._check()
        return self.last


class Ticker:
    """Calls ``action`` every ``interval`` seconds on a thread until stopped."""

    def __init__(self, interval: float, action: Callable[[], None]) -> None:
        self._interval = interval
        self._action = action
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.runs = 0

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._action()
            self.runs += 1

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(PATIENCE)
