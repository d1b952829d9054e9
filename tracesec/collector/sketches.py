"""Behaviour sketches in: the "sketches" section merged across processes and hosts, one stored entry per
(service, name, key, kind, window), so a window's counts span every worker that shipped it.

Merging is :func:`tracesec.sketches.merge_snapshots`: counts add, and an entry naming a process already
merged into its window is a re-delivery and adds nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from tracesec.collector.store import dumps
from tracesec.collector.validation import InvalidBatch
from tracesec.sketches import SketchFormatError, entry_sketch, merge_snapshots

log = logging.getLogger("tracesec.collector")

Entry = dict[str, Any]


def merge_batch_sketches(entries: list[Any]) -> list[Entry]:
    """The batch's entries merged per window; InvalidBatch when one is malformed. Runs at ingest, off the
    writer thread, so the writer only merges each window once per batch."""
    try:
        return merge_snapshots(entries)
    except SketchFormatError as exc:
        raise InvalidBatch("sketches", str(exc)) from None


def fold_sketches(conn: sqlite3.Connection, service: str, entries: Iterable[Entry]) -> None:
    """Merge a batch's (already merged) entries into the stored windows, inside the caller's transaction.
    An entry that cannot merge with its window (agents configured with different sketch sizes) is skipped
    and logged: the rest of the batch is still good."""
    for entry in entries:
        window = (entry["name"], entry["key"], entry["kind"], entry["window_start"], entry["window_seconds"])
        group = dumps([service, *window])
        row = conn.execute("SELECT entry FROM sketches WHERE entry_group = ?", (group,)).fetchone()
        merged = entry
        if row is not None:
            try:
                (merged,) = merge_snapshots([json.loads(row[0]), entry])
            except SketchFormatError as exc:
                log.warning("tracesec collector: sketch %r of %r not merged: %s", entry["name"], service, exc)
                continue
        conn.execute(
            "INSERT OR REPLACE INTO sketches VALUES (?, ?, ?, ?, ?)",
            (group, service, entry["name"], entry["window_start"], dumps(merged)),
        )


class LatestWindows:
    """The newest merged window of each sketch name for one service, decoded on first use: what
    GET /v1/actors asks per actor (one query per name, however many actors are on the page)."""

    def __init__(self, conn: sqlite3.Connection, service: str) -> None:
        self.conn = conn
        self.service = service
        self._entries: dict[tuple[str, str | None], Entry | None] = {}
        self._sketches: dict[tuple[str, str | None], Any] = {}

    def entry(self, name: str, key: str | None = None) -> Entry | None:
        slot = (name, key)
        if slot not in self._entries:
            row = self.conn.execute(
                "SELECT entry FROM sketches WHERE service = ? AND name = ?"
                " AND json_extract(entry, '$.key') IS ? ORDER BY window_start DESC LIMIT 1",
                (self.service, name, key),
            ).fetchone()
            self._entries[slot] = None if row is None else json.loads(row[0])
        return self._entries[slot]

    def estimate(self, name: str, item: str | None = None, key: str | None = None) -> float | None:
        """The newest window's estimate (of ``item`` in a count-min; of the whole for a HyperLogLog)."""
        entry = self.entry(name, key)
        if entry is None:
            return None
        slot = (name, key)
        if slot not in self._sketches:
            self._sketches[slot] = entry_sketch(entry)
        sketch = self._sketches[slot]
        return float(sketch.estimate() if item is None else sketch.estimate(item))

    def window(self, name: str, key: str | None = None) -> Mapping[str, Any] | None:
        """Start, length and contributing processes of the newest window."""
        entry = self.entry(name, key)
        if entry is None:
            return None
        return {
            "window_start": entry["window_start"],
            "window_seconds": entry["window_seconds"],
            "processes": len(entry["processes"]),
        }
