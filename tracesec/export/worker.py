"""The export worker: one bounded queue, one thread per process, started lazily.

The request thread only appends to a deque. When it is full (the worker cannot keep up) a new span is
dropped, as OpenTelemetry's batch processor does: its objects are freed while still in the CPU's cache and
the queue's memory stays put, so an overloaded app is not slowed further. A security event is worth more
and takes the oldest item's place. Both count as ``queue_full``. The worker wakes every
``flush_interval`` seconds, or sooner when a batch is ready, shapes and serialises records, runs the
record processors (discovery, and the behaviour checks in monitor mode) and hands batches to the
transport. After a fork the child starts empty with its own thread, so nothing is sent twice and every
worker exports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, Protocol

from tracesec.context import RequestContext, _suppressed
from tracesec.export.transport import ExportError, Transport
from tracesec.export.wire import Entry, encode_record, pack, resource_attributes
from tracesec.failsafe import guarded, internal_errors, note_internal_error
from tracesec.hooks import HOOKS

log = logging.getLogger("tracesec")

DROP_REASONS = ("queue_full", "network", "rejected")


class Exportable(Protocol):
    export_kind: str

    def to_wire(self) -> dict[str, Any]: ...


class Exporter:
    """Owns the queue and the worker thread. ``enqueue`` is the only method the request path calls."""

    def __init__(
        self,
        transport: Transport,
        *,
        service: Callable[[], str],
        queue_size: int,
        batch_size: int,
        max_batch_bytes: int,
        flush_interval: float,
        on_reply: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.transport = transport
        self._service = service
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._on_reply = on_reply
        self._reset_process_state()
        self._logged_rejection = False

    def _reset_process_state(self) -> None:
        """Everything that belongs to one process; a forked child calls this to start afresh."""
        self._queue: deque[Exportable] = deque(maxlen=self._queue_size)
        self.dropped: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._resource: dict[str, Any] | None = None

    def after_fork_in_child(self) -> None:
        self._reset_process_state()

    # -- request path --------------------------------------------------------------------------------

    def enqueue(self, item: Exportable) -> None:
        queue = self._queue
        if len(queue) >= self._queue_size:
            self.dropped["queue_full"] += 1
            if item.export_kind != "events":
                return
        queue.append(item)  # an event drops the oldest item (the deque's maxlen)
        if self._thread is None:
            self._start()
        elif len(queue) == self._batch_size:
            self._wake.set()  # once, as the batch fills: Event.set takes a lock, too dear for every request

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._stopping:
                return
            thread = threading.Thread(target=self._run, name="tracesec-exporter", daemon=True)
            self._thread = thread
            thread.start()

    # -- worker thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        _suppressed.set(True)  # the exporter's own I/O is never instrumented or checked
        while not self._stopping:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            try:
                self.export_pending()
            except Exception as exc:
                note_internal_error("export.worker", exc)

    def export_pending(self, deadline: float | None = None) -> None:
        """Send what is queued now (one round), batch by batch, plus the products' periodic contributions.
        What arrives meanwhile, including events the record processors raise, waits for the next round, so
        a busy app cannot keep one round going for ever. On any thread (the exit flush runs on the main
        one) the export's own I/O is never instrumented."""
        with self._send_lock:
            self._idle.clear()
            suppressed = _suppressed.set(True)
            try:
                left = len(self._queue)
                while True:
                    if deadline is not None and time.monotonic() > deadline:
                        return
                    items = self._drain(min(self._batch_size, left))
                    left = 0 if not self._queue else left - len(items)
                    self._send(items, with_contributions=left <= 0)
                    if left <= 0:
                        return
            finally:
                _suppressed.reset(suppressed)
                self._idle.set()

    def _drain(self, limit: int) -> list[Exportable]:
        items: list[Exportable] = []
        popleft = self._queue.popleft
        try:
            while len(items) < limit:
                items.append(popleft())
        except IndexError:
            pass
        return items

    def _collect_contributions(self) -> dict[str, list[Any]]:
        merged: dict[str, list[Any]] = {}
        for contributor in HOOKS.contributors:
            for section, records in (guarded("export.contributor", contributor) or {}).items():
                merged.setdefault(section, []).extend(records)
        return merged

    def _send(self, items: list[Exportable], *, with_contributions: bool) -> None:
        """One batch. The products' contributions go with the last batch of a round, collected after its
        records went through the record processors, so what those learnt ships now (also in the exit
        flush), not one flush later."""
        entries: list[Entry] = []
        for item in items:
            if isinstance(item, RequestContext):
                for processor in HOOKS.record_processors:
                    guarded("export.record_processor", processor, item)
            wire = guarded("export.serialise", item.to_wire)
            if wire is not None:
                self._add_entry(entries, item.export_kind, wire)
            # Hand the GIL to the app's threads between records: this thread's CPU work must not hold
            # them up for a whole switch interval (5 ms) at a time.
            time.sleep(0)
        if with_contributions:
            for section, records in self._collect_contributions().items():
                for record in records:
                    self._add_entry(entries, section, record)
        if not entries:
            return
        if self._resource is None:
            self._resource = resource_attributes(self._service())
        metrics = {"dropped": {reason: self.dropped[reason] for reason in DROP_REASONS}}
        metrics["internal_errors"] = internal_errors()
        for batch in pack(self._resource, metrics, entries, self._max_batch_bytes):
            self._deliver(batch)

    @staticmethod
    def _add_entry(entries: list[Entry], section: str, record: Any) -> None:
        data = guarded("export.serialise", encode_record, record)
        if data is not None:
            entries.append((section, record, data))

    def _deliver(self, batch: dict[str, Any]) -> None:
        counts = {section: len(batch.get(section, ())) for section in ("spans", "events")}
        try:
            reply = self.transport.send(batch)
        except ExportError as exc:
            self.dropped[exc.reason] += sum(counts.values())
            if exc.reason == "rejected" and not self._logged_rejection:
                self._logged_rejection = True
                log.warning("tracesec: the analysis service rejected a batch: %s", exc)
            return
        self.sent.update(counts)
        if reply and self._on_reply is not None:
            guarded("export.reply", self._on_reply, reply)

    # -- lifecycle -----------------------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Export what is queued now; True when done within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        if self._thread is None or not self._thread.is_alive():
            self.export_pending(deadline)
            while self._queue and time.monotonic() < deadline:  # the events the last round raised
                self.export_pending(deadline)
            return not self._queue
        while time.monotonic() < deadline:
            if not self._queue and self._idle.is_set():
                return True
            self._wake.set()  # each round sends what was queued when it began: wake it for the rest
            time.sleep(0.005)
        return not self._queue and self._idle.is_set()

    def shutdown(self, timeout: float) -> None:
        """Final flush within ``timeout``, then stop the thread and close the transport."""
        self.flush(timeout)
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(0.1, timeout))
        self.transport.close()

    @property
    def pending(self) -> int:
        return len(self._queue)
