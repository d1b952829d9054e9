"""Issue 6, service side, over HTTP: sketches merged across instances, GET /v1/actors, and the blocklist
policy as the 202 replies carry it."""

from __future__ import annotations

import time
from typing import Any

from collector_client import get, post_batch
from payloads import NS, batch, calls_entry, event, server_span

from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch


def _actors(collector: CollectorProcess, **params: Any) -> list[dict[str, Any]]:
    reply = get(collector, "/v1/actors", **params)
    assert reply.status_code == 200, reply.text
    actors: list[dict[str, Any]] = reply.json()["actors"]
    return actors


def _blocklist(reply: Any) -> dict[str, dict[str, Any]]:
    assert reply.status_code == 202, reply.text
    return {f"{entry['kind']}:{entry['value']}": entry for entry in reply.json()["blocklist"]}


def test_actors_count_requests_routes_addresses_and_events(collector: CollectorProcess) -> None:
    start = 1_700_000_000 * NS
    spans = [server_span("jwt:ann", "/orders/{id}", f"198.51.100.{n % 3}", start + n) for n in range(6)] + [
        server_span("ip:203.0.113.5", "/login", "203.0.113.5", start + 10)
    ]
    events = [event("enumeration", actor="jwt:ann", **{"http.route": "/orders/{id}"})] * 2
    events.append(event("scanner", actor="jwt:ann", severity="medium"))
    assert post_batch(collector, batch(spans=spans[:4], events=events)).status_code == 202
    assert post_batch(collector, batch(instance="web-2", spans=spans[4:])).status_code == 202
    ann, other = _actors(collector, service="shop")
    assert (ann["actor"], ann["kind"], ann["id"]) == ("jwt:ann", "jwt", "ann")
    assert ann["requests"] == 6
    assert (ann["first_seen_unix_nano"], ann["last_seen_unix_nano"]) == (start, start + 5)
    assert ann["routes"] == [{"route": "/orders/{id}", "requests": 6}]
    assert ann["client_addresses"] == 3
    assert ann["events"] == {"enumeration": 2, "scanner": 1}
    assert ann["risk"]["score"] == 30 + 15
    assert (other["actor"], other["requests"], other["client_addresses"]) == ("ip:203.0.113.5", 1, 1)
    assert other["risk"] == {"score": 0, "reasons": []}
    assert _actors(collector, service="elsewhere") == []
    first = get(collector, "/v1/actors", limit=1).json()
    assert [a["actor"] for a in first["actors"]] == ["jwt:ann"]
    rest = get(collector, "/v1/actors", limit=1, cursor=first["next_cursor"]).json()
    assert ([a["actor"] for a in rest["actors"]], rest["next_cursor"]) == (["ip:203.0.113.5"], None)


def test_sketch_windows_are_merged_across_instances_once(collector: CollectorProcess) -> None:
    key = "jwt:ann\x1f/orders/{id}"
    spans = [server_span("jwt:ann", "/orders/{id}", "198.51.100.1", 1_700_000_000 * NS)]
    web1 = batch(instance="web-1", spans=spans, sketches=[calls_entry("web-1:1:a", {key: 40})])
    web2 = batch(instance="web-2", sketches=[calls_entry("web-2:1:b", {key: 25})])
    for sent in (web1, web2):
        assert post_batch(collector, sent).status_code == 202
    again = batch(instance="web-2", sketches=[calls_entry("web-2:1:b", {key: 25})])  # new batch_id
    assert post_batch(collector, again).status_code == 202
    (ann,) = _actors(collector)
    window = ann["last_window"]
    assert (window["calls"], window["processes"], window["window_seconds"]) == (65, 2, 60.0)


def test_a_malformed_sketch_is_refused(collector: CollectorProcess) -> None:
    entry = calls_entry("web-1:1:a", {"x": 1})
    entry["data"] = "not base64 of a sketch"
    reply = post_batch(collector, batch(sketches=[entry]))
    assert reply.status_code == 400
    assert reply.json()["path"] == "sketches"


def test_an_actor_flagged_on_two_instances_is_pushed_to_every_agent(collector: CollectorProcess) -> None:
    flagged = event("scanner", actor="ip:203.0.113.9")
    assert _blocklist(post_batch(collector, batch(instance="web-1", events=[flagged]))) == {}
    monitor_only = event("scanner", actor="ip:203.0.113.9", severity="medium")
    assert _blocklist(post_batch(collector, batch(instance="web-2", events=[monitor_only]))) == {}
    again = event("rate_anomaly", actor="ip:203.0.113.9")
    pushed = _blocklist(post_batch(collector, batch(instance="web-2", events=[again])))
    assert set(pushed) == {"ip:203.0.113.9"}
    assert pushed["ip:203.0.113.9"]["reason"] == "collector:rate_anomaly"
    assert 590 < pushed["ip:203.0.113.9"]["seconds"] <= 600
    other_service = post_batch(collector, sample_batch(spans=1, service="billing"))
    assert set(_blocklist(other_service)) == {"ip:203.0.113.9"}
    assert get(collector, "/v1/blocklist").json()["blocklist"][0]["value"] == "203.0.113.9"


def test_token_sharing_blocks_the_credential_and_a_block_decision_is_pushed_at_once(
    collector: CollectorProcess,
) -> None:
    sharing = event("token_sharing", actor="jwt:ann", **{"tracesec.credential.hash": "c0ffee"})
    for instance in ("web-1", "web-2"):
        pushed = _blocklist(post_batch(collector, batch(instance=instance, events=[sharing])))
    assert set(pushed) == {"credential:c0ffee"}
    decision = event(
        "blocked_actor",
        actor="user:bob",
        **{"tracesec.behavior.blocked_key": "user:bob", "tracesec.behavior.block_reason": "enumeration"},
    )
    pushed = _blocklist(post_batch(collector, batch(events=[decision])))
    assert pushed["user:bob"]["reason"] == "collector:enumeration"


def test_a_block_the_collector_pushed_does_not_renew_itself(tmp_path: Any) -> None:
    extra = ["--block-seconds", "2"]
    with CollectorProcess(tmp_path / "c.sqlite", extra_args=extra) as collector:
        decision = {
            "tracesec.behavior.blocked_key": "ip:203.0.113.9",
            "tracesec.behavior.block_reason": "scanner",
        }
        pushed = _blocklist(post_batch(collector, batch(events=[event("blocked_actor", **decision)])))
        assert set(pushed) == {"ip:203.0.113.9"}
        echo = {**decision, "tracesec.behavior.block_reason": "collector:scanner"}
        for _ in range(100):  # agents keep reporting the refusals the push causes
            pushed = _blocklist(post_batch(collector, batch(events=[event("blocked_actor", **echo)])))
            if not pushed:
                break
            time.sleep(0.05)
        assert pushed == {}
