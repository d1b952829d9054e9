"""The agent's API inventory: a record processor that learns endpoints from finished requests, and a
batch contributor that ships what changed since the last export as endpoint-record deltas.

Both run on the export worker. Every request is counted (a dict lookup and a few increments); only sampled
ones are parsed: the first ``sample_first`` per endpoint and status, then one in ``sample_every``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tracesec.discovery.exchange import observe_exchange
from tracesec.discovery.records import EndpointRecord, new_record, summarise_labels
from tracesec.discovery.routes import template_from_path, template_from_route
from tracesec.discovery.shapes import increment

if TYPE_CHECKING:
    from tracesec.context import RequestContext

UNKNOWN_SERVICE = "unknown_service"


class Discovery:
    """API discovery for one process. Register ``process`` in ``HOOKS.record_processors`` and
    ``snapshot`` in ``HOOKS.contributors``."""

    def __init__(
        self,
        service: str | Callable[[], str] | None = None,
        *,
        sample_first: int = 20,
        sample_every: int = 50,
        max_endpoints: int = 1000,
        infer_enums: bool = True,
    ) -> None:
        if sample_first < 0 or sample_every < 1 or max_endpoints < 1:
            raise ValueError("sample_first >= 0, sample_every >= 1 and max_endpoints >= 1 are required")
        self.service = service
        self.sample_first = sample_first
        self.sample_every = sample_every
        self.max_endpoints = max_endpoints
        self.infer_enums = infer_enums
        self.dropped_requests = 0
        """Requests not inventoried: the endpoint limit was reached, or an unrouted path answered 404."""
        self._lock = threading.Lock()
        self._known: set[tuple[str, str]] = set()
        self._requests_by_status: dict[tuple[str, str, int], int] = {}
        self._changed: dict[tuple[str, str], EndpointRecord] = {}

    def process(self, ctx: RequestContext) -> None:
        """Record processor: count the request against its endpoint and learn from it when sampled."""
        method = ctx.method.upper()
        if method == "OPTIONS" and ctx.headers.get("access-control-request-method"):
            return  # a CORS preflight, answered by middleware, not the API
        status = ctx.status_code or 500
        path_values: Mapping[str, Any] | None
        if ctx.route is not None:
            route, route_source, path_values = template_from_route(ctx.route), "framework", ctx.path_params
        elif status == 404:
            self.dropped_requests += 1  # scanners probing random paths must not grow the inventory
            return
        else:
            route, path_values = template_from_path(ctx.path)
            route_source = "path"
        key = (method, route)
        with self._lock:
            if key not in self._known:
                if len(self._known) >= self.max_endpoints:
                    self.dropped_requests += 1
                    return
                self._known.add(key)
            record = self._changed.get(key)
            if record is None:
                named = self.service() if callable(self.service) else self.service
                service = named or ctx.config.service or UNKNOWN_SERVICE
                record = new_record(service, method, route, route_source, ctx.start_ns)
                self._changed[key] = record
            record["calls"] += 1
            record["last_seen_unix_nano"] = max(record["last_seen_unix_nano"], ctx.start_ns)
            increment(record["status_codes"], str(status))
            if self._sampled((method, route, status)):
                observe_exchange(record, ctx, path_values, self.infer_enums)

    def _sampled(self, endpoint_status: tuple[str, str, int]) -> bool:
        seen = self._requests_by_status.get(endpoint_status, 0) + 1
        self._requests_by_status[endpoint_status] = seen
        return seen <= self.sample_first or (seen - self.sample_first) % self.sample_every == 0

    def snapshot(self) -> Mapping[str, list[Any]]:
        """Contributor: {"inventory": [records of the endpoints seen since the last snapshot]}; each
        record covers only that interval, so the collector adds them up."""
        with self._lock:
            changed, self._changed = self._changed, {}
        records = list(changed.values())
        for record in records:
            summarise_labels(record)
        return {"inventory": records}
