"""Replays labelled traffic (normal users plus each attack) through the engine and scores it:
recall >= 95% per attack scenario, precision per check, and silence on normal traffic."""

from __future__ import annotations

import pytest
from simulator import SCENARIOS, START, evaluate, generate, replay

from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.events import SecurityEvent


def run(attacks: list[str], seed: int, **settings: int):  # type: ignore[no-untyped-def]
    clock = [START]
    events: list[SecurityEvent] = []
    engine = BehaviorEngine(
        BehaviorSettings(login_routes=frozenset({"/login"}), **settings),
        events.append,
        clock=lambda: clock[0],
    )
    outcome = replay(engine, generate(attacks=attacks, seed=seed), clock)
    assert sorted(event.event_id for event, _ in outcome.events) == sorted(event.event_id for event in events)
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_normal_traffic_raises_no_alert(seed: int) -> None:
    outcome = run([], seed)
    assert outcome.requests > 50_000
    assert [(event.type, event.attributes) for event, _ in outcome.events] == []


SMALL_TABLES = {"max_actor_routes": 30, "max_object_ids": 100}
"""Most (actor, route) totals and object IDs then live in the count-mins, as under an actor flood."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "settings"), [(1, {}), (2, {}), (1, SMALL_TABLES)], ids=["seed1", "seed2", "seed1-small-tables"]
)
def test_every_attack_scenario_is_caught_without_false_alarms(seed: int, settings: dict[str, int]) -> None:
    outcome = run(list(SCENARIOS), seed, **settings)
    score = evaluate(outcome, SCENARIOS)
    assert {name: recall for name, recall in score.recall.items() if recall < 0.95} == {}
    assert set(score.precision) >= {
        "rate_anomaly",
        "token_sharing",
        "enumeration",
        "exfiltration",
        "credential_stuffing",
        "scanner",
    }
    assert {kind: n for kind, n in score.false_positives.items() if n} == {}


def test_block_mode_stops_an_attacker_after_detection() -> None:
    clock = [START]
    engine = BehaviorEngine(
        BehaviorSettings(block=True, login_routes=frozenset({"/login"})), clock=lambda: clock[0]
    )
    outcome = replay(
        engine,
        generate(users=40, duration=60 * 60.0, attacks=["scanner_404"], instances=3, attacks_after=30 * 60.0),
        clock,
    )
    assert outcome.blocked > 0
    blocked_requests = [request for event, request in outcome.events if event.type == "blocked_actor"]
    assert blocked_requests and all(request.attack == "scanner_404" for request in blocked_requests)
