"""Actor behaviour over HTTP from a real collector: three behaviour groups, lone actors and an attacker who
behaves like the integration clients (tests/analysis/traffic.py: the ground truth), read back as
GET /v1/clusters, GET /v1/flows and the cluster fields of GET /v1/actors; and the per-actor baseline
from merged sketches."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_client import get, post_batch
from payloads import NS, batch, calls_entry, server_span

from tests.analysis.traffic import GROUPS, event, group_sessions, span
from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess

LONE = [f"ip:198.51.100.{n}" for n in range(4)]
MALLORY = "api_key:mallory"
OLD = "jwt:long-gone"


def _wire(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record (traffic.py's shape) as an agent sends it: without service and instance."""
    return {key: value for key, value in record.items() if key not in ("service", "instance_id")}


def _population(now: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Spans of 12 actors per group over the last ten hours, four lone actors, Mallory acting like the
    integration clients with two attacks, and an actor seen only before the analysis window; the events;
    each actor's group."""
    rng = random.Random(11)
    spans: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    for group in GROUPS:
        for n in range(12):
            actor = f"jwt:{group}-{n}"
            truth[actor] = group
            spans += group_sessions(rng, group, actor, now - 10 * 3600 + rng.uniform(0, 3600))
    spans += group_sessions(rng, "integration", MALLORY, now - 9 * 3600)
    truth[MALLORY] = "integration"
    for n, actor in enumerate(LONE):
        spans += [span(actor, f"/odd/{n}/{step}", now - 3600 + step) for step in range(6)]
    spans += group_sessions(rng, "admin", OLD, now - 20 * 3600, sessions=1)
    events = [
        event("sql_injection", now - 8 * 3600, actor=MALLORY, route="/api/v2/items", user_input="1 OR 1=1"),
        event("ssrf", now - 8 * 3600 + 60, actor=MALLORY, route="/api/v2/webhooks"),
        event("scanner", now - 1800, actor=LONE[0]),
    ]
    return spans, events, truth


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess, dict[str, str]]]:
    spans, events, truth = _population(time.time())
    db = tmp_path_factory.mktemp("behaviour") / "collector.sqlite"
    with CollectorProcess(db, api_key=API_KEY, extra_args=["--analysis-window-hours", "12"]) as collector:
        sent = batch(spans=[_wire(s) for s in spans], events=[_wire(e) for e in events])
        assert post_batch(collector, sent, compress=True).status_code == 202
        yield collector, truth


def _json(collector: CollectorProcess, path: str, **params: Any) -> dict[str, Any]:
    reply = get(collector, path, **params)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_clusters_recover_the_groups_with_outliers_and_the_lookalike_attacker(
    loaded: tuple[CollectorProcess, dict[str, str]],
) -> None:
    collector, truth = loaded
    answer = _json(collector, "/v1/clusters", service="shop")
    groups = {
        cluster["cluster_id"]: {truth[actor] for actor in cluster["members"]}
        for cluster in answer["clusters"]
    }
    assert sorted(map(sorted, groups.values())) == [["admin"], ["integration"], ["shopper"]]
    group_of = {cluster_id: next(iter(group)) for cluster_id, group in groups.items()}
    by_group = {group: cluster_id for cluster_id, group in group_of.items()}
    sizes = {cluster["cluster_id"]: cluster["size"] for cluster in answer["clusters"]}
    assert sizes[by_group["integration"]] == 13 and sizes[by_group["admin"]] == 12
    for cluster in answer["clusters"]:
        group = group_of[cluster["cluster_id"]]
        top = [route["route"] for route in cluster["top_routes"]]
        assert len(top) == 5 and {route.removeprefix("GET ") for route in top} <= set(GROUPS[group])
        assert cluster["attackers"] == (1 if group == "integration" else 0)
    assert sorted(outlier["actor"] for outlier in answer["outliers"]) == LONE
    (lookalike,) = answer["lookalike_attackers"]
    assert (lookalike["actor"], lookalike["cluster_id"]) == (MALLORY, by_group["integration"])
    assert lookalike["event_types"] == ["sql_injection", "ssrf"]
    coverage = answer["coverage"]
    assert (coverage["actors"], coverage["actors_clustered"], coverage["spans_limited"]) == (41, 41, False)
    assert OLD not in {member for cluster in answer["clusters"] for member in cluster["members"]}


def test_actors_carry_their_cluster_outlier_flag_and_nearest_cluster(
    loaded: tuple[CollectorProcess, dict[str, str]],
) -> None:
    collector, _ = loaded
    clusters = _json(collector, "/v1/clusters", service="shop")
    cluster_of = {member: c["cluster_id"] for c in clusters["clusters"] for member in c["members"]}
    actors = {actor["actor"]: actor for actor in _json(collector, "/v1/actors", limit=1000)["actors"]}
    assert len(actors) == 42
    for name, cluster_id in cluster_of.items():
        cluster = actors[name]["cluster"]
        assert (cluster["cluster_id"], cluster["nearest_cluster"], cluster["outlier"]) == (
            cluster_id,
            cluster_id,
            False,
        )
        assert cluster["similarity"] >= 0.5
        assert cluster["lookalike_attacker"] is (name == MALLORY)
    for name in LONE:
        assert actors[name]["cluster"]["outlier"] is True
        assert actors[name]["cluster"]["cluster_id"] is None
        assert actors[name]["cluster"]["similarity"] < 0.5
    assert actors[OLD]["cluster"] is None  # outside the analysis window


def test_the_flow_graph_follows_each_group_in_order(loaded: tuple[CollectorProcess, dict[str, str]]) -> None:
    collector, _ = loaded
    answer = _json(collector, "/v1/flows", service="shop")
    group_of = {f"GET {route}": group for group, routes in GROUPS.items() for route in routes}
    edges = {(edge["from"], edge["to"]): edge["count"] for edge in answer["edges"]}
    assert edges[("GET /admin", "GET /admin/users")] > 10

    def group(route: str) -> str:  # a lone actor's routes are "/odd/<actor>/<step>"
        return group_of.get(route, route.rsplit("/", 1)[0])

    assert all(group(source) == group(target) for source, target in edges)
    steps_forward = sum(
        count
        for (source, target), count in edges.items()
        if source in group_of
        and GROUPS[group_of[source]].index(source[4:]) < GROUPS[group_of[source]].index(target[4:])
    )
    assert steps_forward == sum(count for (source, _), count in edges.items() if source in group_of)
    nodes = {node["route"]: node for node in answer["nodes"]}
    assert "GET /admin" in nodes and "GET /odd/0/0" in nodes
    assert sum(node["calls"] for node in nodes.values()) == answer["coverage"]["spans"]
    assert answer["edge_count"] == len(answer["edges"])


@pytest.mark.parametrize("path", ["/v1/flows", "/v1/clusters"])
def test_service_is_required_and_an_unknown_one_is_empty(
    loaded: tuple[CollectorProcess, dict[str, str]], path: str
) -> None:
    collector, _ = loaded
    reply = get(collector, path)
    assert reply.status_code == 400 and "service: required" in reply.json()["error"]
    empty = _json(collector, path, service="nobody")
    assert empty["coverage"]["spans"] == 0


def test_actor_baseline_says_who_is_far_outside_the_route_population(tmp_path: Path) -> None:
    now = time.time()
    window = math.floor(now / 60) * 60 - 60.0
    route = "/orders/{id}"
    normal = {f"jwt:user-{n}": 3 + n % 4 for n in range(30)}
    counts = {**normal, "jwt:scraper": 400}
    spans = [server_span(actor, route, "198.51.100.1", int(now * NS)) for actor in counts]
    entry = calls_entry(
        "web-1:1:a", {f"{actor}\x1f{route}": calls for actor, calls in counts.items()}, window
    )
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY) as collector:
        assert post_batch(collector, batch(spans=spans, sketches=[entry])).status_code == 202
        actors = {a["actor"]: a for a in _json(collector, "/v1/actors", limit=100)["actors"]}
    scraper = actors["jwt:scraper"]["baseline"]
    assert (scraper["route"], scraper["calls"], scraper["route_actors"]) == (route, 400, 31)
    assert scraper["outside"] is True and scraper["ratio"] > 10 and scraper["percentile"] == 1.0
    assert scraper["window_start"] == window
    for actor in normal:
        baseline = actors[actor]["baseline"]
        assert (
            baseline["outside"] is False
            and baseline["robust_z"] < actors["jwt:scraper"]["baseline"]["robust_z"]
        )
