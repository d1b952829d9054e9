"""The collector's SQLite database: one file in WAL mode, written through one connection only (the
writer thread, see writer.py) and read through short-lived read-only connections, so queries never wait
for ingest and ingest never waits for queries.

This module owns the schema and the raw rows (batches, instances, spans, events); the aggregates the
analysis features keep up to date in the same transaction (merged endpoints, merged sketches, actors,
dependencies, blocks) are written by their own modules, see ingest.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BUSY_TIMEOUT_MS = 5000
# Ingest inserts into time and trace_id indexes at scattered places, so each commit rewrites many pages:
# a page cache that holds the recent index pages and fewer, larger checkpoints keep that cheap.
_CACHE_KIB = 64 * 1024
_WAL_CHECKPOINT_PAGES = 10_000

# One script per schema version; PRAGMA user_version records how many have been applied.
_MIGRATIONS = (
    """
    CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY,
        received_at_unix_nano INTEGER NOT NULL,
        sent_at_unix_nano INTEGER,
        service TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        span_count INTEGER NOT NULL,
        event_count INTEGER NOT NULL,
        metrics TEXT
    ) WITHOUT ROWID;
    CREATE TABLE instances (
        service TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        metrics TEXT,
        first_seen_unix_nano INTEGER NOT NULL,
        last_seen_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (service, instance_id)
    ) WITHOUT ROWID;
    CREATE TABLE spans (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_time_unix_nano INTEGER NOT NULL,
        end_time_unix_nano INTEGER NOT NULL,
        status TEXT NOT NULL,
        status_message TEXT,
        route TEXT,
        attributes TEXT NOT NULL
    );
    CREATE INDEX spans_by_time ON spans (start_time_unix_nano);
    CREATE INDEX spans_by_service ON spans (service, start_time_unix_nano);
    CREATE INDEX spans_by_trace ON spans (trace_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        severity TEXT NOT NULL,
        blocked INTEGER NOT NULL,
        time_unix_nano INTEGER NOT NULL,
        trace_id TEXT,
        span_id TEXT,
        attributes TEXT NOT NULL
    );
    CREATE INDEX events_by_time ON events (time_unix_nano);
    CREATE INDEX events_by_service ON events (service, time_unix_nano);
    CREATE INDEX events_by_type ON events (type, time_unix_nano);
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        section TEXT NOT NULL,
        service TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        received_at_unix_nano INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX records_by_source ON records (section, service, instance_id);
    """,
    # 2: aggregates kept up to date at ingest; the raw sketch and inventory rows they replace are dropped
    # (they were never read, and only a pre-release collector wrote them).
    """
    DROP TABLE records;
    CREATE INDEX batches_by_time ON batches (received_at_unix_nano);
    CREATE TABLE endpoints (
        service TEXT NOT NULL,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        record TEXT NOT NULL,
        updated_at_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (service, method, route)
    ) WITHOUT ROWID;
    CREATE TABLE sketches (
        entry_group TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        name TEXT NOT NULL,
        window_start REAL NOT NULL,
        entry TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sketches_by_name ON sketches (service, name, window_start);
    CREATE TABLE actors (
        service TEXT NOT NULL,
        actor TEXT NOT NULL,
        first_seen_unix_nano INTEGER NOT NULL,
        last_seen_unix_nano INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        risk INTEGER NOT NULL,
        PRIMARY KEY (service, actor)
    ) WITHOUT ROWID;
    CREATE INDEX actors_by_risk ON actors (risk, last_seen_unix_nano);
    CREATE INDEX actors_by_time ON actors (last_seen_unix_nano);
    CREATE TABLE actor_routes (
        service TEXT NOT NULL,
        actor TEXT NOT NULL,
        route TEXT NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (service, actor, route)
    ) WITHOUT ROWID;
    CREATE TABLE actor_addresses (
        service TEXT NOT NULL,
        actor TEXT NOT NULL,
        address TEXT NOT NULL,
        PRIMARY KEY (service, actor, address)
    ) WITHOUT ROWID;
    CREATE TABLE actor_events (
        service TEXT NOT NULL,
        actor TEXT NOT NULL,
        type TEXT NOT NULL,
        count INTEGER NOT NULL,
        severity_rank INTEGER NOT NULL,
        last_seen_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (service, actor, type)
    ) WITHOUT ROWID;
    CREATE TABLE dependencies (
        service TEXT NOT NULL,
        target TEXT NOT NULL,
        calls INTEGER NOT NULL,
        first_seen_unix_nano INTEGER NOT NULL,
        last_seen_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (service, target)
    ) WITHOUT ROWID;
    CREATE TABLE actor_flags (
        block_key TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        time_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (block_key, instance_id)
    ) WITHOUT ROWID;
    CREATE TABLE blocks (
        block_key TEXT PRIMARY KEY,
        until_unix_nano INTEGER NOT NULL,
        reason TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: endpoint baselines (the model state per endpoint, and each bucket's value against its band)
    """
    CREATE TABLE baselines (
        service TEXT NOT NULL,
        route TEXT NOT NULL,
        bucket_seconds INTEGER NOT NULL,
        state TEXT NOT NULL,
        updated_at_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (service, route)
    ) WITHOUT ROWID;
    CREATE TABLE baseline_buckets (
        service TEXT NOT NULL,
        route TEXT NOT NULL,
        metric TEXT NOT NULL,
        bucket_start INTEGER NOT NULL,
        value REAL NOT NULL,
        forecast REAL NOT NULL,
        low REAL NOT NULL,
        high REAL NOT NULL,
        score REAL NOT NULL,
        anomaly INTEGER NOT NULL,
        PRIMARY KEY (service, route, metric, bucket_start)
    ) WITHOUT ROWID;
    CREATE INDEX baseline_buckets_by_time ON baseline_buckets (bucket_start);
    """,
)
# every JSON column is stored compact
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

Event = dict[str, Any]


class StoreError(Exception):
    """The database cannot be opened or has a schema this collector does not know."""


@dataclass(frozen=True)
class Stored:
    """What one write did: a duplicate batch_id is acknowledged but nothing is written again."""

    spans: int
    events: int
    duplicate: bool


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser().resolve()

    def initialise(self) -> None:
        """Create the file and its folder on first start and bring the schema up to date."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self.writer_connection()
            # only takes effect on a new, empty database: lets retention hand freed pages back to the disk
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        try:
            _migrate(conn, self.path)
        finally:
            conn.close()

    def writer_connection(self) -> sqlite3.Connection:
        """The one connection that writes; autocommit mode, transactions are explicit."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
        return conn

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path.as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            yield conn
        finally:
            conn.close()


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > len(_MIGRATIONS):
        raise StoreError(
            f"{path} has schema version {version}; this collector knows up to {len(_MIGRATIONS)}"
        )
    for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


def write_batch(conn: sqlite3.Connection, batch: dict[str, Any], received_ns: int) -> Stored:
    """Store one validated batch's raw rows inside the caller's transaction; a batch_id already stored is
    acknowledged (``duplicate``) without writing anything again."""
    resource = batch["resource"]
    service = resource["service.name"]
    instance = resource["service.instance.id"]
    spans = batch.get("spans", ())
    events = batch.get("events", ())
    metrics = dumps(batch["metrics"]) if "metrics" in batch else None
    inserted = conn.execute(
        "INSERT OR IGNORE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch["batch_id"],
            received_ns,
            batch.get("sent_at_unix_nano"),
            service,
            instance,
            len(spans),
            len(events),
            metrics,
        ),
    ).rowcount
    if inserted:
        _write_rows(conn, batch, service, instance, metrics, received_ns)
    return Stored(spans=len(spans), events=len(events), duplicate=not inserted)


def _write_rows(
    conn: sqlite3.Connection,
    batch: dict[str, Any],
    service: str,
    instance: str,
    metrics: str | None,
    received_ns: int,
) -> None:
    conn.execute(
        "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service, instance_id) DO UPDATE SET"
        " resource = excluded.resource, metrics = coalesce(excluded.metrics, metrics),"
        " last_seen_unix_nano = excluded.last_seen_unix_nano",
        (service, instance, dumps(batch["resource"]), metrics, received_ns, received_ns),
    )
    conn.executemany(
        "INSERT INTO spans (service, instance_id, trace_id, span_id, parent_span_id, name, kind,"
        " start_time_unix_nano, end_time_unix_nano, status, status_message, route, attributes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                service,
                instance,
                span["trace_id"],
                span["span_id"],
                span["parent_span_id"],
                span["name"],
                span["kind"],
                span["start_time_unix_nano"],
                span["end_time_unix_nano"],
                span["status"],
                span["status_message"],
                _text_or_none(span["attributes"].get("http.route")),
                dumps(span["attributes"]),
            )
            for span in batch.get("spans", ())
        ],
    )
    insert_events(conn, service, instance, batch.get("events", ()))


def insert_events(conn: sqlite3.Connection, service: str, instance: str, events: Iterable[Event]) -> None:
    """Agents' events and the collector's own (api_drift) go to the same table."""
    conn.executemany(
        "INSERT INTO events (service, instance_id, event_id, type, severity, blocked, time_unix_nano,"
        " trace_id, span_id, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                service,
                instance,
                event["event_id"],
                event["type"],
                event["severity"],
                event["blocked"],
                event["time_unix_nano"],
                event["trace_id"],
                event["span_id"],
                dumps(event["attributes"]),
            )
            for event in events
        ],
    )


def _text_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def instances(conn: sqlite3.Connection, service: str | None) -> list[dict[str, Any]]:
    """The agent processes seen (most recently heard from first), each with its latest self-metrics."""
    rows = conn.execute(
        "SELECT service, instance_id, resource, metrics, first_seen_unix_nano, last_seen_unix_nano"
        " FROM instances WHERE ? IS NULL OR service = ? ORDER BY last_seen_unix_nano DESC LIMIT 1000",
        (service, service),
    ).fetchall()
    return [
        {
            "service": service,
            "instance_id": instance,
            "resource": json.loads(resource),
            "metrics": None if metrics is None else json.loads(metrics),
            "first_seen_unix_nano": first_seen,
            "last_seen_unix_nano": last_seen,
        }
        for service, instance, resource, metrics, first_seen, last_seen in rows
    ]


def totals(conn: sqlite3.Connection) -> dict[str, int]:
    """Counts for /v1/health, from the per-batch tallies so they stay cheap on a large database."""
    batches, spans, events = conn.execute(
        "SELECT count(*), coalesce(sum(span_count), 0), coalesce(sum(event_count), 0) FROM batches"
    ).fetchone()
    return {"batches": batches, "spans": spans, "events": events}
