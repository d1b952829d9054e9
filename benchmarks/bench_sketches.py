"""Per-update cost of each sketch (budget 0.5 us), next to Apache DataSketches when it is installed: the
figures behind the choice recorded in docs/behavior.md."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from benchmarks.harness import Row, interleaved, report, row
from tracesec.sketches import CountMin, HyperLogLog, MinHash, QuantileSketch

BUDGET_US = 0.5
NUMBER = 20_000
KEYS = [f"jwt:user-{i}\x1f/api/orders/{{order_id}}" for i in range(4096)]


def _cycling(update: Callable[[str], object]) -> Callable[[], object]:
    keys = itertools.cycle(KEYS)
    return lambda: update(next(keys))


def _datasketches_cases() -> dict[str, Callable[[], object]]:
    try:
        import datasketches
    except ImportError:
        return {}
    hll = datasketches.hll_sketch(12)
    count_min = datasketches.count_min_sketch(4, 8192)
    kll = datasketches.kll_floats_sketch(200)
    sizes = itertools.cycle(range(100, 50_000, 7))

    def count_min_add_and_estimate(key: str) -> int:
        count_min.update(key)
        return int(count_min.get_estimate(key))

    return {
        "datasketches hll_sketch.update": _cycling(hll.update),
        "datasketches count_min update + estimate": _cycling(count_min_add_and_estimate),
        "datasketches kll_floats.update": lambda: kll.update(float(next(sizes))),
    }


def main() -> None:
    count_min = CountMin(8192, 4)
    hll = HyperLogLog(12)
    quantiles = QuantileSketch()
    sizes = itertools.cycle(range(100, 50_000, 7))
    cases: dict[str, Callable[[], object]] = {
        "loop + next(key) (baseline of the loop)": _cycling(len),
        "CountMin.add (update + estimate)": _cycling(count_min.add),
        "HyperLogLog.add": _cycling(hll.add),
        "QuantileSketch.add": lambda: quantiles.add(next(sizes)),
        **_datasketches_cases(),
    }
    figures = interleaved(cases, number=NUMBER, repeat=9)
    loop = figures.pop("loop + next(key) (baseline of the loop)")
    rows: list[Row] = [row(name, values, budget_us=BUDGET_US) for name, values in figures.items()]
    rows.append(row("(loop overhead, included above)", loop))
    minhash = MinHash(128)
    batch = KEYS * 4
    minhash_us = interleaved({"minhash": lambda: minhash.update(batch)}, number=3, repeat=5)["minhash"]
    rows.append(row("MinHash.update, per item (batch of 16384, numpy)", [v / len(batch) for v in minhash_us]))
    report("sketches", rows)


if __name__ == "__main__":
    main()
