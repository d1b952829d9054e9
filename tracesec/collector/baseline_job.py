"""The thread that runs the baseline job: once at start, then every ``interval_seconds``. It computes on a
read-only connection and hands the writer thread only the short write of the result, so ingest never
waits for the computation (see baselines.py)."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import sqlite3
import threading
import time

from tracesec.collector.baselines import advance_stored_baselines, save_run
from tracesec.collector.store import Store
from tracesec.collector.writer import BatchWriter

log = logging.getLogger("tracesec.collector")

_WRITE_TIMEOUT = 60.0


class BaselineJob:
    def __init__(
        self, store: Store, writer: BatchWriter, interval_seconds: float, bucket_seconds: int
    ) -> None:
        self.store = store
        self.writer = writer
        self.interval_seconds = interval_seconds
        self.bucket_seconds = bucket_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="tracesec-collector-baselines", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Let a run in progress finish (its write included), then end the thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                self.run_once()
            except (
                sqlite3.Error,
                concurrent.futures.TimeoutError,
            ) as exc:  # a busy database: the next run catches up
                log.warning("tracesec collector: baselines not advanced: %s", exc)
            except Exception:  # a bug must not end the thread: ingest and the API go on
                log.exception("tracesec collector: baselines not advanced")
            if self._stopping.wait(self.interval_seconds):
                return

    def run_once(self) -> None:
        with self.store.reader() as conn:
            run = advance_stored_baselines(conn, time.time(), self.bucket_seconds)
        if run.states:
            write = functools.partial(save_run, run=run, now_ns=time.time_ns())
            self.writer.run(write).result(_WRITE_TIMEOUT)
