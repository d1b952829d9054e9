"""The ingest queue: validated batches wait in a bounded queue for the one thread that writes them.

One writer means concurrent senders never contend for SQLite's write lock; a bounded queue means
overload is answered at once (429 with Retry-After) instead of piling batches up in memory. Batches that
queued up together are committed together, so the busier the collector, the cheaper each batch. Between
writes, the same thread applies the retention policy every ``interval_seconds`` and runs the small write
tasks other threads hand it (``run``: the analysis job computes elsewhere and only writes here).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from tracesec.collector.ingest import Ingest
from tracesec.collector.retention import RetentionPolicy, apply_retention
from tracesec.collector.store import Store, Stored

log = logging.getLogger("tracesec.collector")

T = TypeVar("T")
_Job = tuple[dict[str, Any], int, "Future[Stored]"]
_Task = tuple[Callable[[sqlite3.Connection], Any], "Future[Any]"]


class _Wake:
    """Queued after a task so a writer waiting for batches picks the task up at once."""


_GROUP_SPANS = 16_384  # spans written per transaction at most, when batches queue up


class QueueFull(Exception):
    """The write queue is at capacity; the sender should retry later."""


class StoreUnavailable(Exception):
    """The database refused a write (locked for too long, disk full...); nothing of the batch was kept."""


class BatchWriter:
    def __init__(self, store: Store, ingest: Ingest, retention: RetentionPolicy, capacity: int) -> None:
        self.store = store
        self.ingest = ingest
        self.retention = retention
        self.capacity = capacity
        self._jobs: queue.Queue[_Job | _Wake | None] = queue.Queue(maxsize=capacity)
        self._tasks: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        """Batches waiting for the writer."""
        return self._jobs.qsize()

    @property
    def pending(self) -> int:
        """Batches accepted but not yet committed: those waiting plus those being written."""
        return self._jobs.unfinished_tasks

    def full(self) -> bool:
        return self._jobs.full()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tracesec-collector-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: dict[str, Any], received_ns: int) -> Future[Stored]:
        """Queue a validated batch; the future completes once it is committed (or refused)."""
        done: Future[Stored] = Future()
        try:
            self._jobs.put_nowait((batch, received_ns, done))
        except queue.Full:
            raise QueueFull(f"write queue full ({self.capacity} batches waiting)") from None
        return done

    def run(self, task: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Have the writer thread call ``task(connection)`` between batches; the future holds its result.
        The task manages its own transaction and should be short: ingest waits while it runs."""
        done: Future[T] = Future()
        self._tasks.put((task, done))
        # when the queue is full the writer is busy with batches and gets to the task after them
        with contextlib.suppress(queue.Full):
            self._jobs.put_nowait(_Wake())
        return done

    def stop(self, timeout: float) -> None:
        """Write what is already queued, then end the thread."""
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        conn = self.store.writer_connection()
        try:
            self.ingest.load(conn)
            next_retention = time.monotonic()
            stopping = False
            while not stopping:
                if time.monotonic() >= next_retention:
                    self._retain(conn)
                    next_retention = time.monotonic() + self.retention.interval_seconds
                self._run_tasks(conn)
                group, stopping = self._next_group(max(0.0, next_retention - time.monotonic()))
                if group:
                    self._write(conn, group)
            self._run_tasks(conn)
        finally:
            conn.close()

    def _retain(self, conn: sqlite3.Connection) -> None:
        try:
            apply_retention(conn, self.retention, time.time_ns())
        except sqlite3.Error as exc:  # a busy or full disk must not stop ingest; next round tries again
            log.warning("tracesec collector: retention not applied: %s", exc)

    def _run_tasks(self, conn: sqlite3.Connection) -> None:
        while True:
            try:
                task, done = self._tasks.get_nowait()
            except queue.Empty:
                return
            try:
                done.set_result(task(conn))
            except Exception as exc:  # the task's owner decides what a failure means
                done.set_exception(exc)

    def _next_group(self, timeout: float) -> tuple[list[_Job], bool]:
        """The next batch (waiting up to ``timeout`` seconds for one) plus those queued behind it, up to
        _GROUP_SPANS spans; and whether stop() was called, in which case nothing queued before it is left
        behind."""
        group: list[_Job] = []
        spans = 0
        try:
            job = self._jobs.get(timeout=timeout)
        except queue.Empty:
            return group, False
        while job is not None:
            if isinstance(job, _Wake):
                self._jobs.task_done()
                if group:  # write what came before, then the task
                    return group, False
            else:
                group.append(job)
                spans += len(job[0].get("spans", ()))
                if spans >= _GROUP_SPANS:
                    return group, False
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return group, False
        return group, True

    def _write(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        try:
            stored = self.ingest.write(conn, [(batch, received_ns) for batch, received_ns, _ in jobs])
        except sqlite3.Error as exc:
            log.warning("tracesec collector: %d batch(es) not stored: %s", len(jobs), exc)
            self._settle(jobs, error=StoreUnavailable(f"database unavailable: {exc}"))
        except Exception as exc:  # a bug must fail these requests, not stop the writer
            log.exception("tracesec collector: %d batch(es) not stored", len(jobs))
            self._settle(jobs, error=exc)
        else:
            for (_, _, done), result in zip(jobs, stored, strict=True):
                done.set_result(result)
            self._settle(jobs)

    def _settle(self, jobs: list[_Job], error: Exception | None = None) -> None:
        for _, _, done in jobs:
            self._jobs.task_done()
            if error is not None:
                done.set_exception(error)
