"""Rewrite the README's performance section from benchmarks/results/*.json, so the figures shown are
always those of the last benchmark run (``python -m benchmarks.readme``; `nox -s bench` runs it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.harness import RESULTS

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def _cell(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        lines += [
            f"**{result['title']}**",
            "",
            "| case | unit | median | p90 | bare | added | ratio | budget | note |",
            "|---|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in result["rows"]:
            unit = row.get("unit", "us").replace("us", "µs")
            budget = "" if row["budget_us"] is None else f"{row['budget_us']:g} {unit}"
            if row["within_budget"] is not None:
                budget += " ✓" if row["within_budget"] else " ✗ over"
            lines.append(
                f"| {row['name']} | {unit} | {_cell(row['median_us'])} | {_cell(row['p90_us'])} "
                f"| {_cell(row['baseline_us'])} | {_cell(row['added_us'])} | {_cell(row['ratio'])} "
                f"| {budget} | {row['note']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    results = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))]
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} block to fill")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{render(results)}{END}{tail}")
    print(f"README.md: figures of {len(results)} benchmark(s) written")


if __name__ == "__main__":
    main()
