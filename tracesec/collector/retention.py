"""Storage retention, applied by the writer thread between writes (so it never contends with ingest for
the write lock): rows older than the maximum age go, and while the database uses more than its maximum
size, the oldest spans and events go too, a tenth of their time span at a time.

Deletes run in chunks, each its own short transaction, so a large purge holds up ingest only briefly.
Freed pages are reused by new rows; a database created by this collector (``auto_vacuum=INCREMENTAL``)
also hands them back to the file system. The API inventory (merged endpoints) is never aged out: an
endpoint nobody called for a while is still part of the attack surface.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

NS = 1_000_000_000
_CHUNK = 20_000
_SIZE_ROUNDS = 20
_SIZE_SLICE = 10  # each round deletes the oldest 1/_SIZE_SLICE of the remaining time span

# (table, key, time column, nanoseconds per unit of it): what ages out, by the time it describes
_SPANS = ("spans", "id", "start_time_unix_nano", 1)
_EVENTS = ("events", "id", "time_unix_nano", 1)
_AGED = (
    _SPANS,
    _EVENTS,
    ("batches", "batch_id", "received_at_unix_nano", 1),
    ("sketches", "entry_group", "window_start", NS),
    ("actors", "service, actor", "last_seen_unix_nano", 1),
    ("dependencies", "service, target", "last_seen_unix_nano", 1),
    ("actor_flags", "block_key, instance_id", "time_unix_nano", 1),
)


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_seconds: float | None = 7 * 86_400.0
    max_bytes: int | None = None
    interval_seconds: float = 60.0


def apply_retention(conn: sqlite3.Connection, policy: RetentionPolicy, now_ns: int) -> None:
    """Enforce ``policy`` on the writer's connection (autocommit: each chunk commits by itself)."""
    if policy.max_age_seconds is not None:
        cutoff = now_ns - int(policy.max_age_seconds * NS)
        for table, key, column, unit in _AGED:
            _delete_before(conn, table, key, column, cutoff / unit)
        _delete_orphans(conn)
    conn.execute("DELETE FROM blocks WHERE until_unix_nano <= ?", (now_ns,))
    if policy.max_bytes is not None:
        for _ in range(_SIZE_ROUNDS):
            if used_bytes(conn) <= policy.max_bytes or not _delete_oldest_slice(conn):
                break
    conn.execute("PRAGMA incremental_vacuum")


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the database in use (free pages awaiting reuse not counted)."""
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    return int((pages - free) * page_size)


def _delete_before(conn: sqlite3.Connection, table: str, key: str, column: str, cutoff: float) -> None:
    """Delete ``table`` rows with ``column`` < cutoff, a chunk per transaction."""
    while True:
        deleted = conn.execute(
            f"DELETE FROM {table} WHERE ({key}) IN"
            f" (SELECT {key} FROM {table} WHERE {column} < ? LIMIT {_CHUNK})",
            (cutoff,),
        ).rowcount
        if deleted < _CHUNK:
            return


def _delete_orphans(conn: sqlite3.Connection) -> None:
    """Per-actor details whose actor aged out."""
    for table in ("actor_routes", "actor_addresses", "actor_events"):
        conn.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM actors"
            f" WHERE actors.service = {table}.service AND actors.actor = {table}.actor)"
        )


def _delete_oldest_slice(conn: sqlite3.Connection) -> bool:
    """Delete spans and events in the oldest tenth of the time they cover; False when none are left."""
    bounds = [
        conn.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
        for table, _, column, _ in (_SPANS, _EVENTS)
    ]
    present = [(low, high) for low, high in bounds if low is not None]
    if not present:
        return False
    low = min(low for low, _ in present)
    high = max(high for _, high in present)
    cutoff = low + max(1, (high - low) // _SIZE_SLICE)
    for table, key, column, _ in (_SPANS, _EVENTS):
        _delete_before(conn, table, key, column, cutoff)
    return True
