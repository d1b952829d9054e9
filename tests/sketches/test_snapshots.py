"""The collector's merge of snapshots shipped by several processes."""

from __future__ import annotations

import pytest

from tracesec.sketches import (
    CountMin,
    HyperLogLog,
    SketchFormatError,
    entry_sketch,
    merge_snapshots,
    snapshot_entry,
)


def counts(process: str, items: list[str], start: float = 60.0) -> dict[str, object]:
    sketch = CountMin(256)
    for item in items:
        sketch.add(item)
    return snapshot_entry(
        "actor_route_calls", sketch, window_start=start, window_seconds=60, process_id=process
    )


def test_snapshots_of_one_window_from_several_processes_add_up() -> None:
    merged = merge_snapshots([counts("a", ["x"] * 3), counts("b", ["x"] * 4 + ["y"]), counts("c", ["y"])])
    assert len(merged) == 1
    assert merged[0]["processes"] == ["a", "b", "c"]
    total = entry_sketch(merged[0])
    assert isinstance(total, CountMin)
    assert (total.estimate("x"), total.estimate("y")) == (7, 2)


def test_a_redelivered_snapshot_is_not_counted_twice() -> None:
    first = counts("a", ["x"] * 3)
    merged = merge_snapshots([first, counts("b", ["x"]), first])
    assert entry_sketch(merged[0]).estimate("x") == 4  # type: ignore[attr-defined]


def test_different_windows_names_and_keys_stay_apart() -> None:
    hll = HyperLogLog(8)
    hll.add("alice")
    entries = [
        counts("a", ["x"], start=60),
        counts("a", ["x"], start=120),
        snapshot_entry(
            "route_actors", hll, window_start=60, window_seconds=60, process_id="a", key="/r/{id}"
        ),
        snapshot_entry("route_actors", hll, window_start=60, window_seconds=60, process_id="b", key="/s"),
    ]
    merged = merge_snapshots(entries)
    assert len(merged) == 4
    assert merge_snapshots(merged) == merged


@pytest.mark.parametrize(
    "damage",
    [
        {"kind": "nope"},
        {"data": "not base64!"},
        {"processes": []},
        {"window_seconds": 0},
        {"name": 3},
    ],
)
def test_malformed_entries_are_refused_with_a_message(damage: dict[str, object]) -> None:
    with pytest.raises(SketchFormatError):
        merge_snapshots([{**counts("a", ["x"]), **damage}])


def test_entries_with_incompatible_sketches_are_refused() -> None:
    other = snapshot_entry(
        "actor_route_calls", CountMin(512), window_start=60, window_seconds=60, process_id="b"
    )
    with pytest.raises(SketchFormatError):
        merge_snapshots([counts("a", ["x"]), other])
