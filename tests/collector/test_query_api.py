"""GET /v1/spans, /v1/events and /v1/health over HTTP: filters, time windows, paging, bad parameters."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from collector_client import all_spans, get, post_batch

from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch


def _store(collector: CollectorProcess, *batches: dict[str, object]) -> None:
    for batch in batches:
        assert post_batch(collector, batch).status_code == 202


def test_paging_returns_every_span_once_in_time_order(collector: CollectorProcess) -> None:
    batches = [sample_batch(spans=90, seed=n) for n in range(3)]
    _store(collector, *batches)
    seen = []
    cursor = None
    for _ in range(100):
        page = get(collector, "/v1/spans", limit=40, **({"cursor": cursor} if cursor else {})).json()
        assert len(page["spans"]) <= 40
        seen += page["spans"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(s["span_id"] for s in seen) == sorted(s["span_id"] for b in batches for s in b["spans"])
    starts = [s["start_time_unix_nano"] for s in seen]
    assert starts == sorted(starts)


def test_filters_by_service_route_and_trace(collector: CollectorProcess) -> None:
    shop, billing = sample_batch(spans=40, service="shop"), sample_batch(spans=40, service="billing")
    _store(collector, shop, billing)
    assert {s["span_id"] for s in all_spans(collector, service="billing")} == {
        s["span_id"] for s in billing["spans"]
    }
    route = "/api/orders/{id}"
    expected = {s["span_id"] for s in shop["spans"] if s["attributes"].get("http.route") == route}
    assert expected
    assert {s["span_id"] for s in all_spans(collector, service="shop", route=route)} == expected
    trace_id = shop["spans"][0]["trace_id"]
    assert {s["span_id"] for s in all_spans(collector, trace_id=trace_id)} == {
        s["span_id"] for s in shop["spans"] if s["trace_id"] == trace_id
    }


def _iso(unix_nano: int) -> str:
    return datetime.fromtimestamp(unix_nano // 1_000_000_000, tz=timezone.utc).isoformat()


def test_time_window_in_nanoseconds_and_iso(collector: CollectorProcess) -> None:
    batch = sample_batch(spans=60)
    _store(collector, batch)
    starts = sorted(s["start_time_unix_nano"] for s in batch["spans"])
    since, until = starts[10], starts[50]
    expected = {s["span_id"] for s in batch["spans"] if since <= s["start_time_unix_nano"] < until}
    assert {s["span_id"] for s in all_spans(collector, since=since, until=until)} == expected
    whole_seconds = since - since % 1_000_000_000
    expected_iso = {s["span_id"] for s in batch["spans"] if s["start_time_unix_nano"] >= whole_seconds}
    assert {s["span_id"] for s in all_spans(collector, since=_iso(since))} == expected_iso
    assert {s["span_id"] for s in all_spans(collector, since=_iso(since).replace("+00:00", "Z"))} == (
        expected_iso
    )


def test_events_filters(collector: CollectorProcess) -> None:
    shop, billing = sample_batch(spans=2, events=3), sample_batch(spans=2, events=2, service="billing")
    _store(collector, shop, billing)
    reply = get(collector, "/v1/events", service="billing", type="sql_injection").json()
    assert sorted(e["event_id"] for e in reply["events"]) == sorted(e["event_id"] for e in billing["events"])
    assert reply["next_cursor"] is None
    assert get(collector, "/v1/events", type="ssrf").json()["events"] == []
    first = get(collector, "/v1/events", limit=4).json()
    rest = get(collector, "/v1/events", cursor=first["next_cursor"]).json()
    assert len(first["events"]) == 4
    assert len(rest["events"]) == 1


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"since": "last tuesday"}, "since"),
        ({"until": "99999999999999999999999"}, "until"),
        ({"cursor": "abc"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_them(
    collector: CollectorProcess, params: dict[str, str], named: str
) -> None:
    reply = get(collector, "/v1/spans", **params)
    assert reply.status_code == 400
    assert reply.json()["error"].startswith(named)


def test_health_reports_database_counts_and_queue(collector: CollectorProcess) -> None:
    _store(collector, sample_batch(spans=5, events=1), sample_batch(spans=3))
    health = collector.health()
    assert health["ok"] is True
    assert health["db"] == str(collector.db_path.resolve())
    assert health["counts"] == {"batches": 2, "spans": 8, "events": 1}
    assert health["queue"] == {"depth": 0, "pending": 0, "capacity": 64}


def test_instances_with_their_latest_metrics(collector: CollectorProcess) -> None:
    first = sample_batch(spans=1, instance_id="a")
    later = sample_batch(spans=1, instance_id="a")
    later["metrics"]["dropped"]["queue_full"] = 7
    _store(collector, first, later, sample_batch(spans=1, service="billing", instance_id="b"))
    (shop,) = get(collector, "/v1/instances", service="shop").json()["instances"]
    assert shop["instance_id"] == "a"
    assert shop["resource"] == later["resource"]
    assert shop["metrics"]["dropped"] == {"queue_full": 7, "network": 0, "rejected": 0}
    assert shop["first_seen_unix_nano"] <= shop["last_seen_unix_nano"]
    everyone = get(collector, "/v1/instances").json()["instances"]
    assert [i["service"] for i in everyone] == ["billing", "shop"]
