"""The ingest queue: validated batches wait in a bounded queue for the one thread that writes them.

One writer means concurrent senders never contend for SQLite's write lock; a bounded queue means
overload is answered at once (429 with Retry-After) instead of piling batches up in memory.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from typing import Any

from tracesec.collector.store import Store, Stored, write_batch

log = logging.getLogger("tracesec.collector")

_Job = tuple[dict[str, Any], int, "Future[Stored]"]


class QueueFull(Exception):
    """The write queue is at capacity; the sender should retry later."""


class StoreUnavailable(Exception):
    """The database refused a write (locked for too long, disk full...); nothing of the batch was kept."""


class BatchWriter:
    def __init__(self, store: Store, capacity: int) -> None:
        self.store = store
        self.capacity = capacity
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        """Batches waiting for the writer."""
        return self._jobs.qsize()

    @property
    def pending(self) -> int:
        """Batches accepted but not yet committed: those waiting plus the one being written."""
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
            while (job := self._jobs.get()) is not None:
                batch, received_ns, done = job
                try:
                    done.set_result(self._write(conn, batch, received_ns))
                except sqlite3.Error as exc:
                    log.warning("tracesec collector: batch %s not stored: %s", batch["batch_id"], exc)
                    done.set_exception(StoreUnavailable(f"database unavailable: {exc}"))
                except Exception as exc:  # a bug must fail this request, not stop the writer
                    log.exception("tracesec collector: batch %s not stored", batch["batch_id"])
                    done.set_exception(exc)
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, batch: dict[str, Any], received_ns: int) -> Stored:
        try:
            return write_batch(conn, batch, received_ns)
        finally:
            self._jobs.task_done()
