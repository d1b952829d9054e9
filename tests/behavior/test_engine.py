"""The engine's contract with the core: events with their figures, blocking, lists, snapshots."""

from __future__ import annotations

import ipaddress

import pytest
from helpers import request

from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.behavior.routes import ENTRIES_PER_ROUTE
from tracesec.events import Blocked, SecurityEvent
from tracesec.sketches import CountMin, entry_sketch, merge_snapshots

T0 = 1_700_000_040.0  # a window boundary for 60 s windows


def engine_at(clock: list[float], **settings: object) -> tuple[BehaviorEngine, list[SecurityEvent]]:
    events: list[SecurityEvent] = []
    engine = BehaviorEngine(BehaviorSettings(**settings), events.append, clock=lambda: clock[0])  # type: ignore[arg-type]
    return engine, events


def serve(engine: BehaviorEngine, ctx):  # type: ignore[no-untyped-def]
    engine.on_request_start(ctx)
    engine.on_request_end(ctx)
    return ctx


def probe(engine: BehaviorEngine, ip: str = "198.51.100.9") -> None:
    for path in ("/.env", "/.git/config", "/wp-login.php"):
        serve(engine, request(path, route=None, status=404, ip=ip))


def test_an_event_carries_its_figures_the_actor_and_the_span_ids() -> None:
    clock = [T0]
    engine, events = engine_at(clock)
    probe(engine)
    assert [e.type for e in events] == ["scanner"]
    event = events[0]
    assert event.attributes["tracesec.behavior.probe_paths"] == 3
    assert event.attributes["tracesec.behavior.threshold_probe_paths"] == 3
    assert event.attributes["tracesec.actor.id"] == "198.51.100.9"
    assert event.attributes["client.address"] == "198.51.100.9"
    assert event.trace_id is not None and event.span_id is not None


def test_a_finding_is_reported_once_per_window() -> None:
    clock = [T0]
    engine, events = engine_at(clock)
    probe(engine)
    probe(engine)
    clock[0] += 60
    probe(engine)
    assert [e.type for e in events] == ["scanner", "scanner"]


def test_monitor_mode_reports_but_never_blocks() -> None:
    clock = [T0]
    engine, events = engine_at(clock)
    probe(engine)
    serve(engine, request("/api/orders/1", ip="198.51.100.9"))
    assert [e.type for e in events] == ["scanner"]


def test_block_mode_blocks_the_offender_for_the_configured_time() -> None:
    clock = [T0]
    engine, events = engine_at(clock, block=True, block_seconds=300.0)
    probe(engine)
    with pytest.raises(Blocked) as decision:
        serve(engine, request("/api/orders/1", ip="198.51.100.9"))
    assert decision.value.event.type == "blocked_actor"
    assert decision.value.event.blocked
    assert decision.value.event.attributes["tracesec.behavior.block_reason"] == "scanner"
    serve(engine, request("/api/orders/1", ip="198.51.100.10"))  # someone else is unaffected
    clock[0] += 301
    serve(engine, request("/api/orders/1", ip="198.51.100.9"))
    assert [e.type for e in events] == ["scanner", "blocked_actor"]


def test_checks_run_by_the_export_worker_block_the_next_request_too() -> None:
    clock = [T0]
    engine, events = engine_at(clock, block=True)
    tool = serve(engine, request(headers={"user-agent": "sqlmap/1.7.2#stable"}, ip="198.51.100.5"))
    engine.on_record(tool)  # the export worker's pass over the finished request
    assert [(e.type, e.attributes["tracesec.behavior.tool"]) for e in events] == [("scanner", "sqlmap")]
    with pytest.raises(Blocked):
        serve(engine, request(ip="198.51.100.5"))
    serve(engine, request(ip="198.51.100.6"))


def test_a_blocked_user_is_refused_once_the_app_names_them() -> None:
    clock = [T0]
    engine, _ = engine_at(clock, block=True)
    engine.apply_blocklist([{"kind": "user", "value": "mallory", "seconds": 60}])
    engine.check_user(request(user="alice"))
    with pytest.raises(Blocked):
        engine.check_user(request(user="mallory"))


def test_static_deny_and_allow_lists() -> None:
    clock = [T0]
    engine, events = engine_at(
        clock,
        block=True,
        deny_ips=(ipaddress.ip_network("192.0.2.0/24"),),
        allow_ips=(ipaddress.ip_network("198.51.100.9/32"),),
        deny_credentials=frozenset({"feedface"}),
    )
    with pytest.raises(Blocked):
        serve(engine, request(ip="192.0.2.77"))
    probe(engine, ip="198.51.100.9")  # an allowed scanner (say, the company's own) raises nothing
    serve(engine, request(ip="198.51.100.9"))
    assert [e.type for e in events] == ["blocked_actor"]
    assert events[0].attributes["tracesec.behavior.block_reason"] == "deny_list"


def test_collector_blocklist_is_applied_and_malformed_entries_skipped() -> None:
    clock = [T0]
    engine, _ = engine_at(clock, block=True)
    applied = engine.apply_blocklist(
        [
            {"kind": "ip", "value": "203.0.113.50", "seconds": 120, "reason": "fleet-wide scanner"},
            {"kind": "planet", "value": "mars", "seconds": 1},
            {"kind": "ip", "value": "203.0.113.51", "seconds": -5},
            {"kind": "ip", "value": "", "seconds": 5},
        ]
    )
    assert applied == 1
    with pytest.raises(Blocked) as decision:
        serve(engine, request(ip="203.0.113.50"))
    assert decision.value.event.attributes["tracesec.behavior.block_reason"] == "fleet-wide scanner"


def test_blocked_requests_and_allowed_actors_are_not_counted() -> None:
    clock = [T0]
    engine, events = engine_at(clock)
    ctx = request(path="/.env", route=None, status=404)
    ctx.blocked = SecurityEvent("sql_injection")
    for _ in range(5):
        engine.on_request_start(ctx)
        engine.on_request_end(ctx)
    assert events == []


def test_snapshot_ships_closed_windows_once_and_merges_across_processes() -> None:
    clock = [T0]
    first, _ = engine_at(clock)
    second, _ = engine_at(clock)
    for engine, calls in ((first, 3), (second, 4)):
        for _ in range(calls):
            serve(engine, request(headers={"x-api-key": "shared"}))
    assert first.snapshot() == {}
    clock[0] += 60
    shipped = [entry for engine in (first, second) for entry in engine.snapshot()["sketches"]]
    assert first.snapshot() == {}
    names = {entry["name"] for entry in shipped}
    assert {"actor_route_calls", "actor_route_bytes", "route_response_bytes", "route_actors"} <= names
    merged = {entry["name"]: entry for entry in merge_snapshots(shipped)}
    calls = entry_sketch(merged["actor_route_calls"])
    assert isinstance(calls, CountMin)
    actor_key = f"api_key:{first.resolver.credential_hash('shared')}"
    assert calls.estimate(f"{actor_key}\x1f/api/orders/{{order_id}}") == 7
    assert len(merged["actor_route_calls"]["processes"]) == 2


def test_settings_come_from_config_fields_when_present() -> None:
    class FutureConfig:
        mode = "block"
        behavior_rate_factor = 4.0

    settings = BehaviorSettings.from_config(FutureConfig())
    assert settings.block and settings.rate_factor == 4.0
    assert BehaviorSettings.from_config(object()).rate_factor == BehaviorSettings().rate_factor


def warmed_route(clock: list[float], **settings: object) -> tuple[BehaviorEngine, list[SecurityEvent]]:
    """An engine whose /api/orders route has learnt that its actors each take about 1 kB per window (so an
    actor's limit is about 10 kB), and whose clock stands at a window boundary."""
    engine, events = engine_at(clock, warmup_windows=2, warmup_actors=2, exfiltration_min_bytes=0, **settings)
    for _ in range(5):
        for actor in range(10):
            serve(engine, request("/api/orders", route="/api/orders", ip=f"10.0.0.{actor}"))
        clock[0] += 60
        engine.snapshot()
    return engine, events


def download(engine: BehaviorEngine, clock: list[float], at: float, times: int, others: int = 0) -> None:
    """At ``at``, ``others`` actors call the route once, then one actor downloads 1 kB ``times`` times."""
    clock[0] = at
    for other in range(others):
        serve(engine, request("/api/orders", route="/api/orders", ip=f"10.0.1.{other}"))
    for _ in range(times):
        serve(engine, request("/api/orders", route="/api/orders", ip="198.51.100.5", size=1000))


@pytest.mark.parametrize("others", [0, ENTRIES_PER_ROUTE], ids=["exact", "count-mins"])
def test_a_burst_straddling_a_window_boundary_is_judged_whole(others: int) -> None:
    clock = [T0]
    engine, events = warmed_route(clock, max_actor_routes=0)  # beyond 16 actors, a route's in count-mins
    boundary = clock[0] + 60
    download(engine, clock, boundary - 5, 6, others)  # 6 kB: under the limit in either window alone
    download(engine, clock, boundary + 5, 6, others)
    assert [e.type for e in events] == ["exfiltration"]
    assert events[0].attributes["tracesec.behavior.previous_window_bytes"] == 6000


def test_bytes_in_windows_apart_are_not_added_up() -> None:
    clock = [T0]
    engine, events = warmed_route(clock)
    download(engine, clock, clock[0] + 55, 6)
    download(engine, clock, clock[0] + 70, 6)  # a quiet window between the two
    assert events == []
