"""``RESULTS.md`` from the suites' JSON: environment, targets, tables, profiles."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

PACKAGES = (
    "authonomy-integrations",
    "starlette",
    "fastapi",
    "flask",
    "werkzeug",
    "pyjwt",
    "cryptography",
    "authlib",
    "joserfc",
    "standardwebhooks",
    "uvicorn",
    "waitress",
    "httpx",
)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr)
        else "unknown"
    )


def environment(
    load_before: tuple[float, float, float], seconds: float, quick: bool, tree: str
) -> list[str]:
    """The header: when, where, with what."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    wrk = _run("wrk", "-v")
    return [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {tree} at start;"
        f" `python -m benchmarks{' --quick' if quick else ''}` took {seconds:.0f} s",
        f"- Machine: {_cpu()}, {os.cpu_count()} cores, {platform.system()} {platform.release()};"
        f" load average {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f} at start"
        " (the machine is shared: other processes ran during the measurements)",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {wrk}",
        f"- Libraries: {', '.join(versions)}",
        "",
        "Medians over rounds in which the variants of a suite alternate; each suite runs in",
        "its own process. `ratio` is throughput relative to the group's base (base time /",
        "variant time): 1.00 is as fast as the base, 0.50 half as fast. `min..max` is the",
        "spread of the rounds.",
        "",
    ]


def targets_table(suites: list[dict[str, Any]]) -> list[str]:
    """Every target with its verdict."""
    lines = ["## Targets", "", "| target | goal | measured | |", "|---|---|---|---|"]
    for suite in suites:
        for t in suite["targets"]:
            verdict = "met" if t["met"] else "**missed**"
            lines.append(f"| {t['name']} | {t['goal']} | {t['measured']} | {verdict} |")
    return [*lines, ""]


def group_tables(suites: list[dict[str, Any]]) -> list[str]:
    """One table per group of rows, in the order the suites produced them."""
    lines: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for suite in suites:
        for row in suite["rows"]:
            groups.setdefault(row["group"], []).append(row)
    for group, rows in groups.items():
        lines += [f"## {group}", ""]
        if group == "memory":
            lines += ["| what | RSS growth | |", "|---|---|---|"]
            lines += [f"| {r['name']} | {r['median_us']:.1f} MB | {r['note']} |" for r in rows]
        elif group == "bounds":
            lines += ["| what | entries held |", "|---|---|"]
            lines += [f"| {r['name']} | {r['note']} |" for r in rows]
        elif group.startswith("several workers"):
            # Rows carry p50 and p99 in spread_us, requests per second in note.
            lines += [
                f"| set-up | requests/s | p50 ms | p99 ms | throughput vs {rows[0]['base']} |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {r['name']} | {float(r['note']):.0f} | {r['spread_us'][0] / 1000:.1f} "
                f"| {r['spread_us'][1] / 1000:.1f} | {r['ratio']:.2f} |"
                for r in rows
            ]
        elif group == "soak":
            lines += ["| what | measured |", "|---|---|"]
            lines += [f"| {r['name']} | {r['note']} |" for r in rows]
        elif group.startswith("breakdown"):
            lines += ["| step | µs per call |", "|---|---|"]
            lines += [f"| {r['name']} | {r['median_us']:.1f} |" for r in rows]
        else:
            lines += _timing_table(rows)
        lines.append("")
    return lines


def _timing_table(rows: list[dict[str, Any]]) -> list[str]:
    base = rows[0]["base"] or ""
    lines = [
        f"| variant | median µs/request | min..max | ratio vs {base} | |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else ""
        low, high = r["spread_us"]
        spread = f"{low:.2f}..{high:.2f}"
        lines.append(f"| {r['name']} | {r['median_us']:.2f} | {spread} | {ratio} | {r['note']} |")
    return lines


def profiles(suites: list[dict[str, Any]]) -> list[str]:
    """cProfile excerpts of the kit's functions, for variants that missed a target."""
    found = [(name, text) for suite in suites for name, text in suite["profiles"].items()]
    if not found:
        return []
    lines = [
        "## Profiles of missed targets (cProfile, kit functions only)",
        "",
        "µs per request under the profiler, which inflates short calls: read them as shares.",
        "The interpretation and suggested fixes are in `benchmarks/ANALYSIS.md`.",
        "",
    ]
    for name, text in found:
        lines += [f"### {name}", "", "```", text, "```", ""]
    return lines


def notes(suites: list[dict[str, Any]], failures: list[str]) -> list[str]:
    """Notes from the suites and suites that failed."""
    items = [note for suite in suites for note in suite["notes"]] + failures
    return ["## Notes", "", *[f"- {item}" for item in items], ""] if items else []


def render(
    suites: list[dict[str, Any]],
    failures: list[str],
    load_before: tuple[float, float, float],
    seconds: float,
    quick: bool,
    tree: str,
) -> str:
    """The whole report."""
    parts = environment(load_before, seconds, quick, tree)
    parts += targets_table(suites)
    parts += group_tables(suites)
    parts += profiles(suites)
    parts += notes(suites, failures)
    return "\n".join(parts)
