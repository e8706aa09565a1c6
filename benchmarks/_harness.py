"""Timing primitives shared by the suites: rounds of alternated variants, medians, ratios.

A *batch* is a callable ``batch(n) -> nanoseconds`` that performs ``n`` requests and
returns how long they took, measured with ``time.perf_counter_ns`` around the loop
only. Variants of one suite are alternated inside every round, so a slow spell of the
shared machine hits all of them alike instead of one.
"""

from __future__ import annotations

import cProfile
import gc
import json
import pstats
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Batch = Callable[[int], int]


@dataclass(frozen=True)
class Variant:
    """One thing to time: a name, its batch, and how many requests a round makes."""

    name: str
    batch: Batch
    iterations: int


@dataclass(frozen=True)
class Row:
    """One result line: median microseconds per request and throughput ratio vs a base."""

    group: str
    name: str
    median_us: float
    spread_us: tuple[float, float]
    ratio: float | None = None
    base: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Target:
    """A goal from the brief, its measured value, and whether it was met."""

    name: str
    goal: str
    measured: str
    met: bool


@dataclass
class SuiteResult:
    """What a suite process hands back to the runner (as JSON)."""

    suite: str
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def dump(self, path: Path) -> None:
        """Write as JSON for the runner."""
        path.write_text(json.dumps(asdict(self), indent=1))


@dataclass(frozen=True)
class Settings:
    """How long to measure: rounds per variant and a multiplier on iterations."""

    rounds: int = 9
    scale: float = 1.0

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> Settings:
        """``--quick`` gives a smoke run of 3 short rounds."""
        return cls(rounds=3, scale=0.1) if "--quick" in argv else cls()


def measure(variants: Sequence[Variant], settings: Settings) -> dict[str, list[float]]:
    """Microseconds per request of each variant, one sample per round.

    Every variant is warmed up first; then each round runs all variants in turn, in
    an order rotated each round so none always follows the same neighbour.
    """
    for variant in variants:
        variant.batch(max(50, _count(variant, settings) // 10))
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    for round_no in range(settings.rounds):
        shift = round_no % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            n = _count(variant, settings)
            gc.collect()
            elapsed = variant.batch(n)
            samples[variant.name].append(elapsed / n / 1000)
    return samples


def _count(variant: Variant, settings: Settings) -> int:
    return max(20, int(variant.iterations * settings.scale))


def rows(
    group: str,
    samples: dict[str, list[float]],
    base: str | None,
    notes: dict[str, str] | None = None,
) -> list[Row]:
    """Rows with the median per variant and ``base time / variant time`` as the ratio."""
    base_median = statistics.median(samples[base]) if base else None
    out = []
    for name, values in samples.items():
        median = statistics.median(values)
        ratio = base_median / median if base_median is not None else None
        out.append(
            Row(
                group=group,
                name=name,
                median_us=round(median, 3),
                spread_us=(round(min(values), 3), round(max(values), 3)),
                ratio=round(ratio, 3) if ratio is not None else None,
                base=base,
                note=(notes or {}).get(name, ""),
            )
        )
    return out


def median_of(result_rows: Sequence[Row], group: str, name: str) -> Row:
    """The row called ``name`` in ``group``."""
    for row in result_rows:
        if row.group == group and row.name == name:
            return row
    raise KeyError(f"{group}/{name}")


def profile(batch: Batch, n: int, package: str = "authonomy_integrations", top: int = 12) -> str:
    """Where the time of ``n`` requests goes: the package's functions, µs per request.

    Columns: own time (tottime) and inclusive time (cumtime) per request, and calls per
    request. cProfile inflates short functions, so read the numbers as shares, not as
    absolute costs.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    batch(n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = []
    for (filename, line, func), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if package.replace(".", "/") in filename.replace("\\", "/"):
            short = filename.replace("\\", "/").split(package.replace(".", "/") + "/")[-1]
            entries.append((tottime, cumtime, calls, f"{short}:{line}({func})"))
    entries.sort(reverse=True)
    lines = [f"{'own µs':>8} {'incl µs':>8} {'calls':>6}  function"]
    for tottime, cumtime, calls, where in entries[:top]:
        lines.append(f"{tottime / n * 1e6:8.2f} {cumtime / n * 1e6:8.2f} {calls / n:6.2f}  {where}")
    return "\n".join(lines)


def output_path(argv: Sequence[str]) -> Path | None:
    """The ``--json PATH`` the runner asked for, if any."""
    if "--json" in argv:
        return Path(argv[list(argv).index("--json") + 1])
    return None


def finish(result: SuiteResult, argv: Sequence[str] = sys.argv) -> None:
    """Write the JSON for the runner, or print the rows when run on its own."""
    path = output_path(argv)
    if path is not None:
        result.dump(path)
        return
    for row in result.rows:
        ratio = f"{row.ratio:.3f}" if row.ratio is not None else "-"
        print(f"{row.group:<28} {row.name:<44} {row.median_us:10.2f} µs  ratio {ratio}")
    for target in result.targets:
        print(
            f"{'MET ' if target.met else 'MISS'} {target.name}: {target.measured} ({target.goal})"
        )
    for name, text in result.profiles.items():
        print(f"--- profile: {name}\n{text}")


def as_dict(value: Any) -> Any:
    """Dataclass to plain data (for the report)."""
    return asdict(value)
