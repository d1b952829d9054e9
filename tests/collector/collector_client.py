"""Plain HTTP calls to a collector process, as any sender or reader would make them."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx

from tracesec.collector.process import CollectorProcess


def post_batch(
    collector: CollectorProcess,
    batch: Any,
    *,
    compress: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = batch if isinstance(batch, bytes) else json.dumps(batch).encode()
    sent = {"content-type": "application/json", **collector.headers}
    if compress:
        body = gzip.compress(body)
        sent["content-encoding"] = "gzip"
    sent.update(headers or {})
    return httpx.post(collector.url + "/v1/batches", content=body, headers=sent, timeout=30)


def get(collector: CollectorProcess, path: str, **params: Any) -> httpx.Response:
    return httpx.get(collector.url + path, params=params, headers=collector.headers, timeout=30)


def all_spans(collector: CollectorProcess, **filters: Any) -> list[dict[str, Any]]:
    """Every span matching ``filters``, following the cursor page by page."""
    spans: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        params = {**filters, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        reply = get(collector, "/v1/spans", **params)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        spans += page["spans"]
        cursor = page["next_cursor"]
        if cursor is None:
            return spans
    raise AssertionError("paging never ended")
