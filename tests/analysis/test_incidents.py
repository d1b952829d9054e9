from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.traffic import T0, event, span
from tracesec.analysis import IncidentSettings, build_incidents, service_event, span_actors


def test_events_group_per_actor_and_split_on_a_quiet_gap() -> None:
    events = [
        event("sql_injection", T0, actor="jwt:mallory", user_input="' OR 1=1"),
        event("sql_injection", T0 + 600, actor="jwt:mallory", user_input="1; DROP TABLE x"),
        event("path_traversal", T0 + 600 + 7200, actor="jwt:mallory", user_input="../../etc/passwd"),
        event("scanner", T0 + 30, actor="ip:192.0.2.9"),
    ]
    incidents = build_incidents(events, settings=IncidentSettings(gap_seconds=3600))
    assert [(i.actor, i.detections) for i in incidents] == [
        ("jwt:mallory", 2),
        ("ip:192.0.2.9", 1),
        ("jwt:mallory", 1),
    ]
    first = incidents[0]
    assert first.first_seen_unix_nano == T0 * 10**9
    assert first.last_seen_unix_nano == (T0 + 600) * 10**9
    assert first.inputs == ("' OR 1=1", "1; DROP TABLE x")
    assert first.sinks == ("sql",)
    assert first.routes == ("/api/search",)
    assert first.services == ("shop",)
    assert [entry.event_id for entry in first.timeline] == [events[0]["event_id"], events[1]["event_id"]]


def test_duplicates_by_id_and_repeats_of_the_same_finding_are_merged() -> None:
    agent = event("rate_anomaly", T0, actor="jwt:carl", route="/api/charges")
    redelivered = dict(agent)
    # The service detected the same thing from stored spans a few seconds later.
    service = service_event("rate_anomaly", "high", (T0 + 5) * 10**9, agent["attributes"])
    later = event("rate_anomaly", T0 + 600, actor="jwt:carl", route="/api/charges")
    [incident] = build_incidents([agent, redelivered, service, later])
    assert incident.detections == 2
    assert [entry.occurrences for entry in incident.timeline] == [2, 1]
    assert incident.event_types == {"rate_anomaly": 2}


def test_service_events_have_stable_content_ids() -> None:
    attributes = {"tracesec.actor.kind": "jwt", "tracesec.actor.id": "carl"}
    one = service_event("exfiltration", "high", 5, attributes)
    assert one == service_event("exfiltration", "high", 5, dict(attributes))
    assert one["event_id"] != service_event("exfiltration", "high", 6, attributes)["event_id"]
    assert len(one["event_id"]) == 32


def test_severity_is_the_highest_then_escalated_by_documented_rules() -> None:
    blocked = [event("sql_injection", T0, severity="medium", blocked=True)]
    [incident] = build_incidents(blocked)
    assert (incident.severity, incident.escalations, incident.blocked) == ("medium", (), 1)

    [incident] = build_incidents([event("sql_injection", T0, severity="medium", blocked=False)])
    assert (incident.severity, incident.escalations) == ("high", ("unblocked_sink_attack",))

    three_kinds = [
        event("scanner", T0, severity="high"),
        event("enumeration", T0 + 60, severity="high"),
        event("path_traversal", T0 + 120, severity="low", blocked=True),
    ]
    [incident] = build_incidents(three_kinds)
    assert (incident.severity, incident.escalations) == ("critical", ("many_attack_types",))

    many = [event("enumeration", T0 + 61 * n, severity="medium", user_input=str(n)) for n in range(50)]
    [incident] = build_incidents(many)
    assert (incident.severity, incident.escalations) == ("high", ("many_detections",))

    drift = [event("api_drift", T0, severity="low"), event("blocked_actor", T0 + 1, severity="low")]
    [incident] = build_incidents(drift)
    assert incident.severity == "low"


def test_sink_events_without_actor_attributes_are_attributed_through_their_span() -> None:
    request = span("jwt:mallory", "/api/search", T0)
    sink_event = event("sql_injection", T0, actor=None, span_id=request["span_id"])
    [incident] = build_incidents([sink_event], actors_by_span=span_actors([request]))
    assert incident.actor == "jwt:mallory"
    [unattributed] = build_incidents([sink_event])
    assert unattributed.actor is None


def test_timeline_and_evidence_are_capped_but_counts_cover_everything() -> None:
    events = [event("sql_injection", T0 + n, user_input=f"x' OR {n}=1") for n in range(30)]
    [incident] = build_incidents(events, settings=IncidentSettings(max_timeline=10, max_evidence_values=5))
    assert incident.detections == 30
    assert len(incident.timeline) == 10
    assert len(incident.inputs) == 5
    assert incident.to_json()["timeline"][0]["input"] == "x' OR 0=1"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_incident_ids_and_contents_do_not_depend_on_input_order(seed: int) -> None:
    rng = random.Random(seed)
    actors = ["jwt:a", "jwt:b", "ip:192.0.2.1"]
    kinds = ["sql_injection", "scanner", "enumeration", "ssrf"]
    events = [
        event(rng.choice(kinds), T0 + rng.randrange(0, 4 * 3600), actor=rng.choice(actors))
        for _ in range(rng.randrange(1, 40))
    ]
    shuffled = list(events)
    rng.shuffle(shuffled)
    first, second = build_incidents(events), build_incidents(shuffled)
    assert [i.to_json() for i in first] == [i.to_json() for i in second]
    assert len({i.incident_id for i in first}) == len(first)
    # Each event lands in exactly one incident.
    assert sum(sum(e.occurrences for e in i.timeline) for i in first) == len(events)
