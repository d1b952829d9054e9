"""Collector ingest through the real HTTP endpoint into SQLite: gzip batches of 512 spans from several
concurrent senders, timed from the first request to the last 202 (budget: >= 20k spans/s, i.e.
<= 50 us/span). The senders share the machine with the collector, as agents on the same host would;
the collector's own CPU time per span is reported too, since wall time suffers from whatever else runs."""

from __future__ import annotations

import gzip
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.harness import report, row
from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch

SPANS_PER_BATCH = 512
BATCHES_PER_ROUND = 80
ROUNDS = 5
SENDERS = 4
BUDGET_US_PER_SPAN = 1e6 / 20_000


def gzip_bodies(count: int, round_number: int) -> list[bytes]:
    """Distinct batches (fresh batch_ids, so none is a duplicate), encoded before the clock starts."""
    return [
        gzip.compress(
            json.dumps(sample_batch(SPANS_PER_BATCH, 2, instance_id=f"i{n % SENDERS}", seed=n)).encode(),
            compresslevel=1,
        )
        for n in range(count * round_number, count * (round_number + 1))
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), a figure other load cannot inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_round(collector: CollectorProcess, bodies: list[bytes]) -> tuple[float, float]:
    """Wall-clock and collector-CPU microseconds per span for one round of concurrent sends."""
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    assert collector.pid is not None
    with ThreadPoolExecutor(SENDERS) as pool, httpx.Client(headers=headers, timeout=60) as client:
        cpu_before, start = cpu_seconds(collector.pid), time.perf_counter()
        replies = list(
            pool.map(lambda body: client.post(collector.url + "/v1/batches", content=body), bodies)
        )
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(collector.pid) - cpu_before
    refused = [reply.status_code for reply in replies if reply.status_code != 202]
    if refused:
        raise RuntimeError(f"collector refused {len(refused)} batches: {sorted(set(refused))}")
    spans = len(bodies) * SPANS_PER_BATCH
    return elapsed * 1e6 / spans, cpu * 1e6 / spans


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        with CollectorProcess(Path(folder) / "bench.sqlite") as collector:
            rounds = [timed_round(collector, gzip_bodies(BATCHES_PER_ROUND, n)) for n in range(ROUNDS)]
            stored = collector.health()["counts"]
        expected = ROUNDS * BATCHES_PER_ROUND * SPANS_PER_BATCH
        if stored["spans"] != expected:  # type: ignore[index]
            raise RuntimeError(f"stored {stored} but sent {expected} spans")
    wall, cpu = [figure for figure, _ in rounds], [figure for _, figure in rounds]
    report(
        "collector",
        [
            row(
                f"HTTP ingest into SQLite, {SENDERS} senders, per span",
                wall,
                budget_us=BUDGET_US_PER_SPAN,
                note=f"{1e6 / statistics.median(wall):,.0f} spans/s",
            ),
            row(
                "collector process CPU, per span ingested",
                cpu,
                note=f"{1e6 / statistics.median(cpu):,.0f} spans per CPU-second",
            ),
        ],
    )


if __name__ == "__main__":
    main()
