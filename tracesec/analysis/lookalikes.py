"""Actors who behave like a group of normal actors yet triggered attacks: the attacker that blends in
("looks like group B, but attacked"), which rate and volume checks alone do not single out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from tracesec.analysis.clustering import Clustering
from tracesec.analysis.wire import event_actor
from tracesec.events import EVENT_TYPES

ATTACK_TYPES = EVENT_TYPES - {"api_drift", "blocked_actor"}
"""Events that say an actor attacked (``blocked_actor`` is the refusal that follows one, ``api_drift`` is
about the API, not an actor)."""


class LookalikeAttacker(NamedTuple):
    actor: str
    cluster_id: str
    """The cluster of normal actors it belongs to or, when it is an outlier, resembles most."""
    similarity: float
    cluster_size: int
    attackers_in_cluster: int
    """Members of that cluster (the actor included) with attack events."""
    events: tuple[Mapping[str, Any], ...]
    """Its attack events, oldest first."""

    def to_json(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "cluster_id": self.cluster_id,
            "similarity": self.similarity,
            "cluster_size": self.cluster_size,
            "attackers_in_cluster": self.attackers_in_cluster,
            "event_ids": [event.get("event_id") for event in self.events],
            "event_types": sorted({str(event.get("type")) for event in self.events}),
        }


def attack_events_by_actor(
    events: Iterable[Mapping[str, Any]], actors_by_span: Mapping[str, str] | None = None
) -> dict[str, list[Mapping[str, Any]]]:
    """Attack events per actor key, oldest first; events with no known actor are left out."""
    by_actor: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in events:
        actor = event_actor(event, actors_by_span)
        if event.get("type") in ATTACK_TYPES and actor is not None:
            by_actor[actor].append(event)
    for actor_events in by_actor.values():
        actor_events.sort(key=lambda event: int(event.get("time_unix_nano", 0)))
    return dict(by_actor)


def lookalike_attackers(
    clustering: Clustering,
    events: Iterable[Mapping[str, Any]],
    *,
    actors_by_span: Mapping[str, str] | None = None,
    min_similarity: float = 0.3,
    max_attacker_share: float = 0.2,
) -> list[LookalikeAttacker]:
    """Attackers whose cluster is mostly clean (at most ``max_attacker_share`` of its members attacked),
    or outliers at least ``min_similarity`` alike to such a cluster. Ordered by actor."""
    attacks = attack_events_by_actor(events, actors_by_span)
    attackers_per_cluster: dict[str, int] = defaultdict(int)
    for actor in attacks:
        if actor in clustering.cluster_of:
            attackers_per_cluster[clustering.cluster_of[actor]] += 1
    sizes = {cluster.cluster_id: len(cluster.members) for cluster in clustering.clusters}
    found = []
    for actor in sorted(attacks):
        cluster_id = clustering.cluster_of.get(actor)
        if cluster_id is not None:
            similarity = clustering.similarity(actor, cluster_id)
        else:
            nearest, similarity = clustering.nearest(actor)
            if nearest is None or similarity < min_similarity:
                continue
            cluster_id = nearest
        attackers = attackers_per_cluster[cluster_id] + (actor not in clustering.cluster_of)
        if attackers / sizes[cluster_id] <= max_attacker_share:
            found.append(
                LookalikeAttacker(
                    actor, cluster_id, similarity, sizes[cluster_id], attackers, tuple(attacks[actor])
                )
            )
    return found
