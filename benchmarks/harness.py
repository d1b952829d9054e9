"""Shared timing and reporting for the benchmarks: medians over repeats, ratios against a baseline
measured in the same run, results printed as a table and written to benchmarks/results/NAME.json."""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass
class Row:
    name: str
    median_us: float
    p90_us: float
    baseline_us: float | None = None
    budget_us: float | None = None
    note: str = ""
    unit: str = "us"
    """What the figures measure: microseconds by default; e.g. "MB" for a memory row."""

    @property
    def added_us(self) -> float | None:
        return None if self.baseline_us is None else self.median_us - self.baseline_us

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline_us else self.median_us / self.baseline_us

    @property
    def within_budget(self) -> bool | None:
        if self.budget_us is None:
            return None
        measured = self.added_us if self.baseline_us is not None else self.median_us
        return measured is not None and measured <= self.budget_us


def per_call_us(fn: Callable[[], object], *, number: int, repeat: int = 15) -> list[float]:
    """Microseconds per call of ``fn``, one figure per repeat (each repeat runs ``number`` calls)."""
    for _ in range(min(number, 1000)):
        fn()
    figures = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter_ns()
            for _ in range(number):
                fn()
            figures.append((time.perf_counter_ns() - start) / number / 1000)
    finally:
        if gc_was_enabled:
            gc.enable()
    return figures


def interleaved(
    fns: dict[str, Callable[[], object]], *, number: int, repeat: int = 15
) -> dict[str, list[float]]:
    """Time several variants round-robin, so drift in machine speed touches them all alike."""
    results: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            results[name].extend(per_call_us(fn, number=number, repeat=1))
    return results


def row(
    name: str,
    figures: list[float],
    *,
    baseline: list[float] | None = None,
    budget_us: float | None = None,
    note: str = "",
    unit: str = "us",
) -> Row:
    ordered = sorted(figures)
    return Row(
        name=name,
        median_us=statistics.median(ordered),
        p90_us=ordered[int(0.9 * (len(ordered) - 1))],
        baseline_us=None if baseline is None else statistics.median(baseline),
        budget_us=budget_us,
        note=note,
        unit=unit,
    )


def report(title: str, rows: list[Row]) -> None:
    """Print the table and write benchmarks/results/<title>.json."""
    print(f"\n## {title}")
    header = ("case", "median us", "p90 us", "bare us", "added us", "ratio", "budget")
    print(f"{header[0]:44} " + " ".join(f"{h:>9}" for h in header[1:]))
    for r in rows:
        bare = "" if r.baseline_us is None else f"{r.baseline_us:9.2f}"
        added = "" if r.added_us is None else f"{r.added_us:9.2f}"
        ratio = "" if r.ratio is None else f"{r.ratio:6.2f}"
        budget = "" if r.budget_us is None else ("ok " if r.within_budget else "OVER ") + f"{r.budget_us:g}"
        print(
            f"{r.name:44} {r.median_us:10.2f} {r.p90_us:9.2f} {bare:>9} {added:>9} {ratio:>6} {budget:>8}"
            + (f"  {r.note}" if r.note else "")
        )
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "title": title,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "rows": [
            asdict(r) | {"added_us": r.added_us, "ratio": r.ratio, "within_budget": r.within_budget}
            for r in rows
        ],
    }
    (RESULTS / f"{title}.json").write_text(json.dumps(payload, indent=2) + "\n")
