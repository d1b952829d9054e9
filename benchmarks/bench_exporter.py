"""Export serialisation on one core: Span.to_wire, the batch envelope, JSON and gzip, as the export
worker does it for every batch the HTTP transport sends (budget: >= 50k spans/s, i.e. <= 20 us/span)."""

from __future__ import annotations

from benchmarks.harness import per_call_us, report, row
from tracesec.export.http import encode_body
from tracesec.export.wire import build_batch, resource_attributes
from tracesec.spans import Span

BATCH_SIZE = 512
BUDGET_US_PER_SPAN = 1e6 / 50_000


def request_spans(count: int) -> list[Span]:
    """A server span per request with one database child, attributes as the integrations set them."""
    spans: list[Span] = []
    while len(spans) < count:
        server = Span(
            "GET /api/users/{id}",
            "server",
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736 + len(spans),
            attributes={
                "http.request.method": "GET",
                "url.path": f"/api/users/{len(spans)}",
                "url.scheme": "http",
                "http.route": "/api/users/{id}",
                "http.response.status_code": 200,
                "client.address": "203.0.113.7",
                "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Example/1.0",
                "server.address": "shop.example",
                "http.request.header.accept": ["application/json"],
            },
        )
        server.end()
        query = Span(
            "SELECT shop",
            "client",
            trace_id=server.trace_id,
            parent_id=server.span_id,
            attributes={
                "db.system": "sqlite",
                "db.query.text": "SELECT id, name, email FROM users WHERE id = ?",
                "db.operation.name": "SELECT",
            },
        )
        query.end()
        spans += [server, query]
    return spans[:count]


def main() -> None:
    spans = request_spans(BATCH_SIZE)
    resource = resource_attributes("bench")
    metrics = {"dropped": {"queue_full": 0, "network": 0, "rejected": 0}, "internal_errors": {}}

    def export_one_batch() -> None:
        encode_body(build_batch(resource, {"spans": [span.to_wire() for span in spans]}, metrics))

    per_batch = per_call_us(export_one_batch, number=20, repeat=15)
    per_span = [figure / BATCH_SIZE for figure in per_batch]
    median = sorted(per_span)[len(per_span) // 2]
    report(
        "exporter",
        [
            row(
                f"serialise {BATCH_SIZE}-span batch (json+gzip), per span",
                per_span,
                budget_us=BUDGET_US_PER_SPAN,
                note=f"{1e6 / median:,.0f} spans/s on one core",
            )
        ],
    )


if __name__ == "__main__":
    main()
