"""``python -m benchmarks [--quick] [--only starlette,flask,...]``: run every suite, each in
its own process, and write ``benchmarks/RESULTS.md`` (a ``--quick`` run only prints)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._report import render

HERE = Path(__file__).resolve().parent
SUITES: dict[str, list[str]] = {
    "starlette": ["benchmarks.asgi_bench", "--framework", "starlette"],
    "fastapi": ["benchmarks.asgi_bench", "--framework", "fastapi"],
    "flask": ["benchmarks.flask_bench"],
    "webhooks": ["benchmarks.webhook_bench"],
    "http": ["benchmarks.http_bench"],
    "memory": ["benchmarks.memory_bench"],
    "observability": ["benchmarks.observability_bench"],
    "workers": ["benchmarks.workers_bench"],
    "redis": ["benchmarks.redis_bench"],
    "soak": ["benchmarks.soak"],
}
SUITE_TIMEOUT = 300
#: The soak runs for ten minutes by design; the workers suite starts 24 servers.
SUITE_TIMEOUTS = {"soak": 900, "workers": 1200}


def run_suite(name: str, quick: bool, workdir: Path) -> dict[str, Any]:
    """Run one suite in a fresh interpreter and read back its JSON."""
    out = workdir / f"{name}.json"
    command = [sys.executable, "-m", *SUITES[name], "--json", str(out)]
    if quick:
        command.append("--quick")
    print(f"running {name} ...", flush=True)
    started = time.monotonic()
    timeout = SUITE_TIMEOUTS.get(name, SUITE_TIMEOUT)
    subprocess.run(command, check=True, timeout=timeout, cwd=HERE.parent)
    print(f"  {name} done in {time.monotonic() - started:.0f} s", flush=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _tree_state() -> str:
    """The commit measured, and whether the kit's sources differ from it."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE.parent)
        except OSError:
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def main(argv: list[str]) -> int:
    """Run the chosen suites and write or print the report."""
    quick = "--quick" in argv
    chosen = list(SUITES)
    if "--only" in argv:
        chosen = argv[argv.index("--only") + 1].split(",")
    load = os.getloadavg()
    tree = _tree_state()
    started = time.monotonic()
    suites, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            try:
                suites.append(run_suite(name, quick, Path(tmp)))
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                failures.append(f"suite {name} failed: {exc}")
                print(f"  {name} FAILED: {exc}", flush=True)
    report = render(suites, failures, load, time.monotonic() - started, quick, tree)
    if quick or "--only" in argv:
        print(report)
    else:
        (HERE / "RESULTS.md").write_text(report)
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
