"""Batch analysis for the analysis service: pure functions over stored span and event wire dicts (no I/O).

- ``seasonal`` / ``endpoints``: per-endpoint baselines of request volume and response bytes;
- ``actor_baseline``: how far an actor's count lies outside its route's per-actor distribution;
- ``flows``: sessions per actor and the API flow graph;
- ``clustering`` / ``lookalikes``: actors grouped by behaviour, outliers, attackers that blend in;
- ``incidents``: events merged into per-actor incidents.

See docs/analysis.md for parameters and the calls the collector makes.
"""

from tracesec.analysis.actor_baseline import (
    ActorCountDistribution,
    ActorDeviation,
    sketch_counts,
    window_counts,
)
from tracesec.analysis.clustering import (
    Cluster,
    Clustering,
    ClusteringSettings,
    Outlier,
    behaviour_shingles,
    cluster_actors,
)
from tracesec.analysis.endpoints import (
    Anomaly,
    BucketTotals,
    Endpoint,
    EndpointBaseline,
    advance_baselines,
    bucket_traffic,
)
from tracesec.analysis.flows import FlowGraph, Session, actor_sessions, flow_graph
from tracesec.analysis.incidents import (
    Incident,
    IncidentSettings,
    TimelineEntry,
    build_incidents,
    service_event,
)
from tracesec.analysis.lookalikes import (
    ATTACK_TYPES,
    LookalikeAttacker,
    attack_events_by_actor,
    lookalike_attackers,
)
from tracesec.analysis.lsh import lsh_parameters
from tracesec.analysis.seasonal import BaselineSettings, SeasonalBaseline, Verdict
from tracesec.analysis.wire import actor_key, event_actor, span_actors

__all__ = [
    "ATTACK_TYPES",
    "ActorCountDistribution",
    "ActorDeviation",
    "Anomaly",
    "BaselineSettings",
    "BucketTotals",
    "Cluster",
    "Clustering",
    "ClusteringSettings",
    "Endpoint",
    "EndpointBaseline",
    "FlowGraph",
    "Incident",
    "IncidentSettings",
    "LookalikeAttacker",
    "Outlier",
    "SeasonalBaseline",
    "Session",
    "TimelineEntry",
    "Verdict",
    "actor_key",
    "actor_sessions",
    "advance_baselines",
    "attack_events_by_actor",
    "behaviour_shingles",
    "bucket_traffic",
    "build_incidents",
    "cluster_actors",
    "event_actor",
    "flow_graph",
    "lookalike_attackers",
    "lsh_parameters",
    "service_event",
    "sketch_counts",
    "span_actors",
    "window_counts",
]
