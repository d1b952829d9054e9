"""Grouping actors by behaviour: MinHash signatures of what they do, LSH to find likely pairs, a check of
each pair's estimated Jaccard similarity, and connected components (single linkage) as clusters.

Deterministic: actors are processed in sorted order, signatures use a fixed seed, and clusters are named
after the smallest member of their linked group, so the same input always gives the same clusters and ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from tracesec.analysis.flows import Session
from tracesec.analysis.lsh import band_groups, lsh_parameters
from tracesec.sketches import MinHash


@dataclass(frozen=True)
class ClusteringSettings:
    threshold: float = 0.5
    """Estimated Jaccard similarity at which two actors count as behaving alike."""
    num_perm: int = 128
    min_cluster_size: int = 3
    """Smaller groups are dissolved: their actors are outliers."""
    sample_members: int = 64
    """Members per cluster an actor is compared with when measuring how near it is to that cluster."""
    seed: int = 1


def behaviour_shingles(sessions: Iterable[Session]) -> set[str]:
    """What an actor does, as a set: each route it called (``"route:GET /a"``) and each step from one
    route to the next (``"step:GET /a -> POST /b"``), so both what and in which order count."""
    shingles: set[str] = set()
    for session in sessions:
        shingles.update(f"route:{route}" for route in session.routes)
        shingles.update(f"step:{a} -> {b}" for a, b in pairwise(session.routes))
    return shingles


class Cluster(NamedTuple):
    cluster_id: str
    members: tuple[str, ...]
    """Actor keys, sorted."""


class Outlier(NamedTuple):
    """An actor in no cluster, with the cluster it resembles most (None when there are no clusters)."""

    actor: str
    nearest_cluster: str | None
    similarity: float


class Clustering:
    """The result of ``cluster_actors``; ``similarity`` measures any clustered actor against any cluster."""

    def __init__(
        self, actors: list[str], signatures: NDArray[np.uint64], clusters: list[Cluster], sample_members: int
    ) -> None:
        self._row = {actor: row for row, actor in enumerate(actors)}
        self._signatures = signatures
        self._samples = {
            cluster.cluster_id: np.asarray(
                [self._row[actor] for actor in _spread(cluster.members, sample_members)], dtype=np.intp
            )
            for cluster in clusters
        }
        self.clusters = clusters
        self.cluster_of = {actor: cluster.cluster_id for cluster in clusters for actor in cluster.members}
        self.outliers: list[Outlier] = []

    def similarity(self, actor: str, cluster_id: str) -> float:
        """Highest estimated Jaccard similarity between the actor and the cluster's sampled members
        (itself excluded); 0.0 for an unknown actor."""
        row = self._row.get(actor)
        if row is None:
            return 0.0
        sample = self._samples[cluster_id]
        sample = sample[sample != row]
        if not len(sample):
            return 0.0
        equal = self._signatures[sample] == self._signatures[row]
        return float(equal.mean(axis=1).max())

    def nearest(self, actor: str) -> tuple[str | None, float]:
        """The most similar cluster and its similarity (first cluster wins ties)."""
        best: tuple[str | None, float] = (None, 0.0)
        for cluster in self.clusters:
            similarity = self.similarity(actor, cluster.cluster_id)
            if similarity > best[1]:
                best = (cluster.cluster_id, similarity)
        return best

    def to_json(self) -> dict[str, Any]:
        return {
            "clusters": [{"cluster_id": c.cluster_id, "members": list(c.members)} for c in self.clusters],
            "outliers": [o._asdict() for o in self.outliers],
        }


def cluster_actors(
    shingles_by_actor: Mapping[str, Iterable[str]], settings: ClusteringSettings | None = None
) -> Clustering:
    """Cluster actors whose behaviour (e.g. ``behaviour_shingles`` of their sessions) is alike. Actors
    with no shingles are ignored. Clusters come largest first, then by id."""
    settings = settings or ClusteringSettings()
    actors = sorted(actor for actor, shingles in shingles_by_actor.items() if shingles)
    signatures = np.empty((len(actors), settings.num_perm), dtype=np.uint64)
    for row, actor in enumerate(actors):
        minhash = MinHash(settings.num_perm, settings.seed)
        minhash.update(sorted(set(shingles_by_actor[actor])))
        signatures[row] = minhash.signature
    parents = list(range(len(actors)))
    bands, rows = lsh_parameters(settings.threshold, settings.num_perm)
    for group in band_groups(signatures, bands, rows):
        _link_similar(group, signatures, settings.threshold, parents)
    components: dict[int, list[str]] = {}
    for row, actor in enumerate(actors):
        components.setdefault(_root(parents, row), []).append(actor)
    clusters = [
        Cluster(_cluster_id(members), tuple(members))
        for members in components.values()
        if len(members) >= settings.min_cluster_size
    ]
    clustering = Clustering(actors, signatures, clusters, settings.sample_members)
    _place_unclustered(clustering, actors, settings.threshold)
    return clustering


def _place_unclustered(clustering: Clustering, actors: list[str], threshold: float) -> None:
    """An actor LSH left alone but as similar as ``threshold`` to a cluster joins it (a missed
    candidate pair); the others become outliers, with the cluster they resemble most."""
    joined: dict[str, list[str]] = {}
    for actor in actors:
        if actor in clustering.cluster_of:
            continue
        nearest, similarity = clustering.nearest(actor)
        if nearest is not None and similarity >= threshold:
            joined.setdefault(nearest, []).append(actor)
        else:
            clustering.outliers.append(Outlier(actor, nearest, similarity))
    clustering.clusters = sorted(
        (
            Cluster(
                cluster.cluster_id, tuple(sorted((*cluster.members, *joined.get(cluster.cluster_id, ()))))
            )
            for cluster in clustering.clusters
        ),
        key=lambda cluster: (-len(cluster.members), cluster.cluster_id),
    )
    for cluster_id, members in joined.items():
        clustering.cluster_of.update(dict.fromkeys(members, cluster_id))


def _link_similar(
    group: NDArray[np.intp], signatures: NDArray[np.uint64], threshold: float, parents: list[int]
) -> None:
    """Leader clustering inside one LSH bucket: link each member to the first remaining member it is
    similar to; cost linear in the bucket size when its members are alike (the common case)."""
    remaining = group
    while len(remaining) > 1:
        leader = remaining[0]
        similar = (signatures[remaining[1:]] == signatures[leader]).mean(axis=1) >= threshold
        for member in remaining[1:][similar]:
            _union(parents, int(leader), int(member))
        remaining = remaining[1:][~similar]


def _root(parents: list[int], node: int) -> int:
    while parents[node] != node:
        parents[node] = parents[parents[node]]
        node = parents[node]
    return node


def _union(parents: list[int], a: int, b: int) -> None:
    root_a, root_b = _root(parents, a), _root(parents, b)
    if root_a != root_b:
        parents[max(root_a, root_b)] = min(root_a, root_b)


def _cluster_id(members: list[str]) -> str:
    return "c-" + hashlib.blake2b(members[0].encode(), digest_size=6).hexdigest()


def _spread(members: tuple[str, ...], count: int) -> tuple[str, ...]:
    """``count`` members evenly spread over the sorted list (all of them when fewer)."""
    if len(members) <= count:
        return members
    step = len(members) / count
    return tuple(members[int(index * step)] for index in range(count))
