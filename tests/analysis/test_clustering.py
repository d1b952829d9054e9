from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.analysis.traffic import GROUPS, T0, event, group_sessions, span
from tracesec.analysis import (
    ClusteringSettings,
    actor_sessions,
    behaviour_shingles,
    cluster_actors,
    lookalike_attackers,
    lsh_parameters,
)


def population(seed: int, per_group: int = 40) -> tuple[list[dict], dict[str, str]]:
    """Spans of ``per_group`` actors in each behaviour group, five lone actors with behaviour of their
    own, and the group each actor belongs to (the ground truth)."""
    rng = random.Random(seed)
    spans: list[dict] = []
    truth: dict[str, str] = {}
    for group in GROUPS:
        for n in range(per_group):
            actor = f"jwt:{group}-{n}"
            truth[actor] = group
            spans += group_sessions(rng, group, actor, T0 + rng.uniform(0, 3600))
    for n in range(5):
        actor = f"ip:198.51.100.{n}"
        spans += [span(actor, f"/odd/{n}/{step}", T0 + step) for step in range(6)]
    return spans, truth


def shingles_of(spans: list[dict]) -> dict[str, set[str]]:
    return {actor: behaviour_shingles(sessions) for actor, sessions in actor_sessions(spans).items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clustering_recovers_the_behaviour_groups_and_leaves_lone_actors_out(seed: int) -> None:
    spans, truth = population(seed)
    clustering = cluster_actors(shingles_of(spans))
    recovered = sorted(sorted(cluster.members) for cluster in clustering.clusters)
    expected = sorted(sorted(a for a, g in truth.items() if g == group) for group in GROUPS)
    assert recovered == expected
    assert sorted(o.actor for o in clustering.outliers) == [f"ip:198.51.100.{n}" for n in range(5)]
    assert all(o.similarity < 0.5 for o in clustering.outliers)


def test_clustering_is_deterministic_whatever_the_input_order() -> None:
    spans, _ = population(4)
    shingles = shingles_of(spans)
    reversed_input = dict(reversed(list(shingles.items())))
    first, second = cluster_actors(shingles), cluster_actors(reversed_input)
    assert first.to_json() == second.to_json()
    assert all(cluster.cluster_id.startswith("c-") for cluster in first.clusters)


def test_an_attacker_who_behaves_like_a_normal_group_is_reported_with_that_group() -> None:
    spans, truth = population(5)
    rng = random.Random(9)
    spans += group_sessions(rng, "integration", "api_key:mallory", T0 + 100)
    attacks = [
        event(
            "sql_injection", T0 + 200, actor="api_key:mallory", route="/api/v2/items", user_input="1 OR 1=1"
        ),
        event("ssrf", T0 + 260, actor="api_key:mallory", route="/api/v2/webhooks"),
    ]
    # An attacker with a behaviour of their own is an outlier, not a lookalike.
    attacks.append(event("scanner", T0 + 300, actor="ip:198.51.100.0"))
    clustering = cluster_actors(shingles_of(spans))
    found = lookalike_attackers(clustering, attacks)
    assert [f.actor for f in found] == ["api_key:mallory"]
    cluster = next(c for c in clustering.clusters if c.cluster_id == found[0].cluster_id)
    assert {truth.get(actor) for actor in cluster.members} == {"integration", None}
    assert "api_key:mallory" in cluster.members
    assert found[0].similarity >= 0.5
    assert found[0].attackers_in_cluster == 1
    assert found[0].to_json()["event_types"] == ["sql_injection", "ssrf"]
    assert [e["event_id"] for e in found[0].events] == [e["event_id"] for e in attacks[:2]]


def test_a_cluster_where_many_attack_is_not_a_normal_group() -> None:
    spans, _ = population(6)
    attacks = [event("scanner", T0 + n, actor=f"jwt:admin-{n}") for n in range(20)]
    clustering = cluster_actors(shingles_of(spans))
    assert lookalike_attackers(clustering, attacks) == []
    assert len(lookalike_attackers(clustering, attacks[:2])) == 2


@given(
    threshold=st.floats(min_value=0.05, max_value=0.95),
    num_perm=st.integers(min_value=16, max_value=256),
)
def test_lsh_bands_fit_the_signature_and_centre_near_the_threshold(threshold: float, num_perm: int) -> None:
    bands, rows = lsh_parameters(threshold, num_perm)
    assert bands * rows <= num_perm
    # The similarity at which half the pairs become candidates, (1/b)^(1/r), sits near the target.
    assert abs((1 / bands) ** (1 / rows) - threshold) < 0.2


def test_settings_change_what_counts_as_alike() -> None:
    spans, _ = population(7)
    shingles = shingles_of(spans)
    strict = cluster_actors(shingles, ClusteringSettings(threshold=0.99))
    assert len(strict.outliers) > 5
    assert cluster_actors(shingles, ClusteringSettings(min_cluster_size=41)).clusters == []
