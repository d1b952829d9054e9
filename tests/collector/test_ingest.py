"""POST /v1/batches against a real collector process: the ingest contract, answer by answer."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from collector_client import all_spans, get, post_batch

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch


def test_valid_batch_is_stored_and_read_back(collector: CollectorProcess) -> None:
    batch = sample_batch(spans=7, events=2)
    reply = post_batch(collector, batch, compress=True)
    assert reply.status_code == 202
    assert reply.json() == {"accepted": {"spans": 7, "events": 2}, "duplicate": False, "blocklist": []}
    stored = {span["span_id"]: span for span in all_spans(collector, service="shop")}
    assert set(stored) == {span["span_id"] for span in batch["spans"]}
    for span in batch["spans"]:
        assert stored[span["span_id"]] == {"service": "shop", "instance_id": "instance-1", **span}
    events = get(collector, "/v1/events", type="sql_injection").json()["events"]
    assert sorted(e["event_id"] for e in events) == sorted(e["event_id"] for e in batch["events"])


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", f"Basic {API_KEY}"])
def test_wrong_or_missing_key_is_401_and_stores_nothing(
    collector: CollectorProcess, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {"authorization": ""}
    reply = post_batch(collector, sample_batch(spans=3), headers=headers)
    assert reply.status_code == 401
    assert "API key" in reply.json()["error"]
    assert collector.health()["counts"] == {"batches": 0, "spans": 0, "events": 0}


def test_query_api_needs_the_key_too(collector: CollectorProcess) -> None:
    assert httpx.get(collector.url + "/v1/spans").status_code == 401


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"not json at all", "body"),
        (b"[1, 2, 3]", "batch"),
        (b'{"protocol_version": 1, "batch_id": "x", "resource": {}}', "batch_id"),
        (b'{"protocol_version": 1, "batch_id": "' + b"a" * 32 + b'", "spans": []}', "resource"),
    ],
)
def test_garbage_is_400_naming_the_field(collector: CollectorProcess, body: bytes, path: str) -> None:
    reply = post_batch(collector, body)
    assert reply.status_code == 400
    assert reply.json()["path"] == path
    assert path in reply.json()["error"]


def test_a_batch_with_one_bad_span_stores_nothing(collector: CollectorProcess) -> None:
    batch = sample_batch(spans=10, events=1)
    batch["spans"][7]["kind"] = "producer"
    reply = post_batch(collector, batch)
    assert reply.status_code == 400
    assert reply.json()["path"] == "spans[7].kind"
    assert "producer" in reply.json()["error"]
    assert collector.health()["counts"] == {"batches": 0, "spans": 0, "events": 0}
    assert all_spans(collector, trace_id=batch["spans"][0]["trace_id"]) == []


def test_duplicate_batch_id_is_stored_once(collector: CollectorProcess) -> None:
    batch = sample_batch(spans=4)
    first = post_batch(collector, batch)
    second = post_batch(collector, batch, compress=True)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (second.status_code, second.json()["duplicate"]) == (202, True)
    assert len(all_spans(collector)) == 4
    assert collector.health()["counts"]["batches"] == 1


def test_concurrent_senders_are_all_stored(collector: CollectorProcess) -> None:
    batches = [sample_batch(spans=25, instance_id=f"instance-{n % 4}") for n in range(48)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(lambda batch: post_batch(collector, batch, compress=True).status_code, batches)
        )
    assert statuses == [202] * len(batches)
    assert collector.health()["counts"] == {"batches": 48, "spans": 48 * 25, "events": 0}
    stored = [span["span_id"] for span in all_spans(collector)]
    assert sorted(stored) == sorted(span["span_id"] for batch in batches for span in batch["spans"])


def test_oversize_body_is_413_whether_or_not_its_length_is_declared(tmp_path: Path) -> None:
    extra = ["--max-body-bytes", "20000"]
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY, extra_args=extra) as collector:
        body = json.dumps(sample_batch(spans=200)).encode()
        assert len(body) > 20000
        assert post_batch(collector, body).status_code == 413
        chunked = httpx.post(
            collector.url + "/v1/batches",
            content=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
            headers={"content-type": "application/json", **collector.headers},
        )
        assert chunked.status_code == 413
        assert post_batch(collector, sample_batch(spans=5)).status_code == 202


def _gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_gzip_bomb_is_refused_without_exhausting_memory(tmp_path: Path) -> None:
    bomb = _gzip_of_zeros(1024 * 1024 * 1024)  # 1 GiB of zeros in about 1 MB
    extra = ["--max-body-bytes", str(4 * 1024 * 1024)]
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY, extra_args=extra) as collector:
        reply = httpx.post(
            collector.url + "/v1/batches",
            content=bomb,
            headers={"content-type": "application/json", "content-encoding": "gzip", **collector.headers},
            timeout=60,
        )
        assert reply.status_code == 413
        assert "decompression" in reply.json()["error"]
        assert collector.health()["ok"] is True
        assert post_batch(collector, sample_batch(spans=3), compress=True).status_code == 202
        assert collector.pid is not None
        assert _peak_rss_bytes(collector.pid) < 256 * 1024 * 1024


@pytest.mark.parametrize(
    ("encoding", "body", "status"),
    [
        ("gzip", b"\x1f\x8b\x08 definitely not deflate", 400),
        ("gzip", zlib.compress(b"{}")[:-3], 400),
        ("br", b"{}", 415),
    ],
)
def test_undecodable_bodies_are_refused(
    collector: CollectorProcess, encoding: str, body: bytes, status: int
) -> None:
    headers = {"content-type": "application/json", "content-encoding": encoding, **collector.headers}
    reply = httpx.post(collector.url + "/v1/batches", content=body, headers=headers)
    assert reply.status_code == status
    assert reply.json()["error"]


def test_truncated_gzip_and_trailing_data_are_400(collector: CollectorProcess) -> None:
    import gzip

    whole = gzip.compress(json.dumps(sample_batch(spans=3)).encode())
    for body in (whole[: len(whole) // 2], whole + b"trailing"):
        headers = {"content-type": "application/json", "content-encoding": "gzip", **collector.headers}
        reply = httpx.post(collector.url + "/v1/batches", content=body, headers=headers)
        assert reply.status_code == 400, reply.text
    assert collector.health()["counts"]["batches"] == 0


def test_non_json_content_type_is_415(collector: CollectorProcess) -> None:
    reply = post_batch(collector, sample_batch(spans=1), headers={"content-type": "text/plain"})
    assert reply.status_code == 415


def _wait_for_pending(collector: CollectorProcess, pending: int) -> None:
    for _ in range(400):
        if collector.health()["queue"]["pending"] >= pending:
            return
        time.sleep(0.025)
    raise AssertionError(f"the collector never had {pending} batches pending")


def test_full_write_queue_is_429_with_retry_after(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    with CollectorProcess(db, api_key=API_KEY, extra_args=["--queue-size", "1"]) as collector:
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: the writer thread waits on it
        results: dict[str, int] = {}
        waiting = [sample_batch(spans=2) for _ in range(2)]

        def send(name: str, batch: dict[str, object]) -> None:
            results[name] = post_batch(collector, batch).status_code

        threads = [threading.Thread(target=send, args=(f"w{n}", b)) for n, b in enumerate(waiting)]
        for pending, thread in enumerate(threads, start=1):
            thread.start()
            _wait_for_pending(collector, pending)  # first the one being written, then one in the queue
        refused_batch = sample_batch(spans=2)
        refused = post_batch(collector, refused_batch)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "queue" in refused.json()["error"]
        blocker.execute("ROLLBACK")
        blocker.close()
        for thread in threads:
            thread.join(30)
        assert results == {"w0": 202, "w1": 202}
        stored = {span["span_id"] for span in all_spans(collector)}
        assert stored == {span["span_id"] for batch in waiting for span in batch["spans"]}
        assert post_batch(collector, refused_batch).status_code == 202
