"""Over real HTTP on 127.0.0.1: bare app vs the kit with a repeat bearer token, loaded
by ``wrk``; uvicorn for Starlette, waitress for Flask, each in its own process.

``python -m benchmarks.http_bench [--quick]``
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

from authonomy_integrations.sandbox import Sandbox

from ._harness import Row, SuiteResult, Target, finish
from ._tokens import mint, real_login

CONNECTIONS = 16
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")


@dataclass(frozen=True)
class Server:
    """How to start one app: a name and its command line (``{port}`` is filled in)."""

    name: str
    command: list[str]


def _python() -> str:
    return sys.executable


SERVERS = {
    "uvicorn": (
        Server(
            "bare Starlette",
            [_python(), "-m", "uvicorn", "--factory", "benchmarks._servers:starlette_bare"],
        ),
        Server(
            "kit, repeat bearer",
            [_python(), "-m", "uvicorn", "--factory", "benchmarks._servers:starlette_kit"],
        ),
    ),
    "waitress": (
        Server(
            "bare Flask", [_python(), "-m", "waitress", "--call", "benchmarks._servers:flask_bare"]
        ),
        Server(
            "kit, repeat bearer",
            [_python(), "-m", "waitress", "--call", "benchmarks._servers:flask_kit"],
        ),
    ),
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _arguments(kind: str, port: int) -> list[str]:
    if kind == "uvicorn":
        return [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    return ["--listen", f"127.0.0.1:{port}"]


@contextmanager
def serving(kind: str, server: Server, env: dict[str, str]) -> Iterator[str]:
    """Run the server in a subprocess; its ``/api`` URL; stopped on exit.

    The server's output goes to a file, not a pipe: a full pipe nobody reads would
    block a server that logs (waitress warns about its queue depth under load).
    """
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*server.command[:-1], *_arguments(kind, port), server.command[-1]],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process, log)
            yield f"http://127.0.0.1:{port}/api"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: IO[bytes], timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            error = log.read().decode(errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}: {error[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port we do not own; no event to wait on
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass(frozen=True)
class Load:
    """One wrk run: requests per second, non-2xx count and mean latency (ms)."""

    rps: float
    errors: int
    latency_ms: float


def wrk(url: str, token: str, seconds: int) -> Load:
    """``wrk -t1 -c16`` against ``url`` with the bearer token."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rate = _RATE.search(out)
    if rate is None or float(rate.group(1)) == 0:
        raise RuntimeError(f"no requests served by {url}; wrk said:\n{out}")
    errors = _ERRORS.search(out)
    latency = _LATENCY.search(out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return Load(
        rps=float(rate.group(1)),
        errors=int(errors.group(1)) if errors else 0,
        latency_ms=float(latency.group(1)) * scale[latency.group(2)] if latency else 0.0,
    )


def _check(url: str, token: str, expected: str) -> None:
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if answer.status_code != 200 or answer.text != expected:
        raise RuntimeError(
            f"{url}: {answer.status_code} {answer.text[:200]!r}, expected {expected!r}"
        )


def run_kind(
    kind: str, env: dict[str, str], token: str, name: str, rounds: int, seconds: int
) -> list[Row]:
    """Both servers of one kind up at once, loaded in alternation for ``rounds`` rounds."""
    bare, kit = SERVERS[kind]
    loads: dict[str, list[Load]] = {bare.name: [], kit.name: []}
    with ExitStack() as stack:
        urls = {s.name: stack.enter_context(serving(kind, s, env)) for s in (bare, kit)}
        _check(urls[bare.name], token, name)
        _check(urls[kit.name], token, name)
        for server in (bare, kit):
            wrk(urls[server.name], token, 1)  # warm-up
        for round_no in range(rounds):
            order = (bare, kit) if round_no % 2 == 0 else (kit, bare)
            for server in order:
                loads[server.name].append(wrk(urls[server.name], token, seconds))
    return _rows(f"HTTP {kind}", loads, bare.name)


def _rows(group: str, loads: dict[str, list[Load]], base: str) -> list[Row]:
    base_rps = statistics.median(load.rps for load in loads[base])
    out = []
    for name, runs in loads.items():
        rps = statistics.median(load.rps for load in runs)
        errors = sum(load.errors for load in runs)
        latency = statistics.median(load.latency_ms for load in runs)
        out.append(
            Row(
                group=group,
                name=name,
                median_us=round(1e6 / rps, 2),
                spread_us=(
                    round(1e6 / max(r.rps for r in runs), 2),
                    round(1e6 / min(r.rps for r in runs), 2),
                ),
                ratio=round(rps / base_rps, 3),
                base=base,
                note=f"{rps:,.0f} req/s, mean latency {latency:.2f} ms, non-2xx {errors}",
            )
        )
    return out


def _adapter_installed(kind: str) -> bool:
    module = (
        "authonomy_integrations.starlette" if kind == "uvicorn" else "authonomy_integrations.flask"
    )
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main(argv: list[str]) -> None:
    """Run uvicorn and waitress pairs; the ratio is kit req/s over bare req/s."""
    quick = "--quick" in argv
    rounds, seconds = (1, 1) if quick else (3, 5)
    result = SuiteResult(suite="http")
    if shutil.which("wrk") is None:
        result.notes.append("http: wrk is not installed; skipped")
        finish(result, argv)
        return
    with Sandbox() as sb:
        login = real_login(sb, sb.config())
        token = mint(sb, login.claims)
        env = dict(os.environ)
        env["BENCH_SANDBOX"] = json.dumps(
            {
                "issuer": sb.issuer,
                "api_base_url": sb.api_base_url,
                "api_key": sb.api_key,
                "audience": sb.audience,
            }
        )
        env["BENCH_BODY"] = str(login.claims["name"])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
        for kind in SERVERS:
            if not _adapter_installed(kind):
                result.notes.append(f"http: the kit's adapter for {kind} is not installed; skipped")
                continue
            kind_rows = run_kind(kind, env, token, str(login.claims["name"]), rounds, seconds)
            result.rows += kind_rows
            kit = kind_rows[1]
            result.targets.append(
                Target(
                    f"HTTP {kind}: repeat bearer token",
                    ">= 0.90 of bare requests per second",
                    f"{kit.ratio:.3f}",
                    (kit.ratio or 0) >= 0.90,
                )
            )
    result.notes.append(
        f"http: wrk -t1 -c{CONNECTIONS}, {rounds} x {seconds} s per server, alternated; "
        "µs column = 1e6 / req/s (wall time per request across all connections)"
    )
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
