"""The shipped form of sketch state, and the collector's merge of it across processes and hosts.

One snapshot entry is a JSON object::

    {"name": "actor_route_calls", "key": null, "kind": "count_min",
     "window_start": 1700000040.0, "window_seconds": 60.0,
     "processes": ["web-1:4242:9f0c..."], "data": "<base64 of the sketch's binary form>"}

Entries with the same name, key, kind and window describe the same quantity seen by different processes;
merging them gives the global figure for that window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tracesec.sketches._codec import SketchFormatError, from_base64, kind_of, to_base64
from tracesec.sketches.base import Sketch
from tracesec.sketches.countmin import CountMin
from tracesec.sketches.hyperloglog import HyperLogLog
from tracesec.sketches.minhash import MinHash
from tracesec.sketches.quantiles import QuantileSketch

SKETCH_TYPES: dict[str, type[Sketch]] = {
    cls.kind: cls for cls in (CountMin, HyperLogLog, MinHash, QuantileSketch)
}


def sketch_from_bytes(data: bytes) -> Sketch:
    """Read any sketch's binary form, whatever its kind."""
    return SKETCH_TYPES[kind_of(data)].from_bytes(data)


def merge(first: Sketch, second: Sketch) -> Sketch:
    """What one sketch fed both streams would estimate."""
    return first.merged(second)


def snapshot_entry(
    name: str,
    sketch: Sketch,
    *,
    window_start: float,
    window_seconds: float,
    process_id: str,
    key: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "key": key,
        "kind": sketch.kind,
        "window_start": float(window_start),
        "window_seconds": float(window_seconds),
        "processes": [process_id],
        "data": to_base64(sketch.to_bytes()),
    }


def entry_sketch(entry: Mapping[str, Any]) -> Sketch:
    """The sketch inside a snapshot entry, checked against the entry's declared kind."""
    kind = entry.get("kind")
    data = entry.get("data")
    if kind not in SKETCH_TYPES or not isinstance(data, str):
        raise SketchFormatError(f"snapshot entry needs a kind among {sorted(SKETCH_TYPES)} and base64 data")
    return SKETCH_TYPES[kind].from_bytes(from_base64(data))


def merge_snapshots(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Merge snapshot entries from many processes: one entry per (name, key, kind, window).

    An entry naming a process already merged into its group is a re-delivery and is skipped, so shipping
    the same state twice never doubles a count. Raises SketchFormatError on a malformed entry.
    """
    merged: dict[tuple[Any, ...], tuple[Sketch, set[str], Mapping[str, Any]]] = {}
    for entry in entries:
        group = _group_key(entry)
        processes = _processes(entry)
        sketch = entry_sketch(entry)
        if group not in merged:
            merged[group] = (sketch, set(processes), entry)
            continue
        total, seen, first = merged[group]
        if seen & processes:
            continue
        try:
            merged[group] = (total.merged(sketch), seen | processes, first)
        except ValueError as exc:
            raise SketchFormatError(f"snapshot {group[0]!r}: {exc}") from None
    return [
        {**first, "processes": sorted(seen), "data": to_base64(total.to_bytes())}
        for total, seen, first in merged.values()
    ]


def _group_key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    name, key = entry.get("name"), entry.get("key")
    start, seconds = entry.get("window_start"), entry.get("window_seconds")
    if not isinstance(name, str) or not (key is None or isinstance(key, str)):
        raise SketchFormatError("snapshot entry needs a string name and a string or null key")
    if not isinstance(start, (int, float)) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise SketchFormatError(f"snapshot {name!r}: window_start and a positive window_seconds are numbers")
    return (name, key, entry.get("kind"), float(start), float(seconds))


def _processes(entry: Mapping[str, Any]) -> set[str]:
    processes = entry.get("processes")
    if not isinstance(processes, list) or not processes or not all(isinstance(p, str) for p in processes):
        raise SketchFormatError(f"snapshot {entry.get('name')!r}: processes must be a non-empty string list")
    return set(processes)
