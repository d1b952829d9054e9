"""Storage retention on a real collector: rows past the maximum age disappear, the database is held under
its maximum size by deleting the oldest spans and events, and ingest and queries keep working."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from collector_client import all_spans, get, post_batch
from payloads import NS, event

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch

DAY = 86_400 * NS


def _batch_at(start_ns: int, spans: int, seed: int) -> dict[str, Any]:
    """A sample batch whose spans and events all start at ``start_ns``."""
    sent = sample_batch(spans=spans, seed=seed)
    for span in sent["spans"]:
        span["start_time_unix_nano"], span["end_time_unix_nano"] = start_ns, start_ns + 1000
    sent["events"] = [event("scanner", time_unix_nano=start_ns)]
    return sent


def _wait_until(check: Any) -> None:
    for _ in range(400):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("retention never got there")


def test_rows_older_than_the_maximum_age_are_deleted(tmp_path: Path) -> None:
    extra = ["--retention-days", "7", "--retention-interval", "0.1"]
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY, extra_args=extra) as collector:
        now = time.time_ns()
        old, fresh = _batch_at(now - 30 * DAY, 20, 1), _batch_at(now - DAY, 20, 2)
        for sent in (old, fresh):
            assert post_batch(collector, sent).status_code == 202
        fresh_ids = {span["span_id"] for span in fresh["spans"]}
        _wait_until(lambda: {span["span_id"] for span in all_spans(collector)} == fresh_ids)
        events = get(collector, "/v1/events").json()["events"]
        assert [e["event_id"] for e in events] == [fresh["events"][0]["event_id"]]
        newer = _batch_at(now, 5, 3)
        assert post_batch(collector, newer).status_code == 202
        assert len(all_spans(collector)) == 25


def test_the_oldest_spans_go_when_the_database_outgrows_its_limit(tmp_path: Path) -> None:
    extra = ["--max-db-mb", "1", "--retention-days", "0", "--retention-interval", "0.1"]
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY, extra_args=extra) as collector:
        start = time.time_ns() - DAY
        batches = [_batch_at(start + n * 60 * NS, 400, n) for n in range(16)]
        for sent in batches:
            assert post_batch(collector, sent, compress=True).status_code == 202
        limit = 1024 * 1024
        _wait_until(lambda: collector.health()["storage"]["used_bytes"] <= limit)  # type: ignore[index]
        stored = {span["span_id"] for span in all_spans(collector)}
        assert 0 < len(stored) < 16 * 400
        assert not stored & {span["span_id"] for span in batches[0]["spans"]}
        assert {span["span_id"] for span in batches[-1]["spans"]} <= stored
        assert post_batch(collector, _batch_at(time.time_ns(), 10, 99)).status_code == 202
        assert collector.health()["ok"] is True
