from __future__ import annotations

from tests.analysis.traffic import T0, span
from tracesec.analysis import actor_sessions, flow_graph


def test_sessions_split_on_the_idle_gap_in_time_order() -> None:
    spans = [
        span("jwt:bob", "/cart", T0 + 30),
        span("jwt:bob", "/login", T0, method="POST"),
        span("jwt:bob", "/products", T0 + 10),
        span("jwt:bob", "/orders", T0 + 30 + 1801),
        span("jwt:ann", "/products", T0 + 5),
        {**span("jwt:ann", "/db", T0 + 6), "kind": "client"},
    ]
    sessions = actor_sessions(spans, idle_gap_seconds=1800)
    assert [s.routes for s in sessions["jwt:bob"]] == [
        ("POST /login", "GET /products", "GET /cart"),
        ("GET /orders",),
    ]
    assert sessions["jwt:bob"][0].start_unix_nano == T0 * 10**9
    assert sessions["jwt:bob"][0].end_unix_nano == (T0 + 30) * 10**9
    assert [s.routes for s in sessions["jwt:ann"]] == [("GET /products",)]


def test_flow_graph_counts_which_endpoint_follows_which() -> None:
    spans = []
    for n, actor in enumerate(["jwt:a", "jwt:b", "jwt:c"]):
        for step, route in enumerate(["/login", "/products", "/products", "/cart"][: 2 + n]):
            spans.append(span(actor, route, T0 + step))
    graph = flow_graph(s for sessions in actor_sessions(spans).values() for s in sessions)
    assert graph.edges == {
        ("GET /login", "GET /products"): 3,
        ("GET /products", "GET /products"): 2,
        ("GET /products", "GET /cart"): 1,
    }
    assert graph.entries == {"GET /login": 3}
    assert graph.exits == {"GET /products": 2, "GET /cart": 1}
    assert graph.to_json()["edges"][0] == {"from": "GET /login", "to": "GET /products", "count": 3}
    assert {node["route"]: node["calls"] for node in graph.to_json()["nodes"]} == {
        "GET /cart": 1,
        "GET /login": 3,
        "GET /products": 5,
    }
