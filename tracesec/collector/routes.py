"""The HTTP API: ingest (POST /v1/batches), the query API and health. Every error is JSON
``{"error": "<what is wrong>"}`` (plus ``"path"`` naming the field for a malformed batch). Handlers only
translate HTTP: each query is a function of a read-only connection in its own module."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tracesec.collector.actors import list_actors
from tracesec.collector.apis import UnknownService, list_apis, openapi_document
from tracesec.collector.baselines import list_baselines
from tracesec.collector.behaviour import Behaviour
from tracesec.collector.body import BodyError, read_body
from tracesec.collector.incidents import list_incidents
from tracesec.collector.ingest import prepare
from tracesec.collector.query import EVENTS, SPANS, QueryError, Table, page
from tracesec.collector.retention import used_bytes
from tracesec.collector.servicemap import service_map
from tracesec.collector.store import Store, instances, totals
from tracesec.collector.validation import InvalidBatch, decode_batch
from tracesec.collector.writer import BatchWriter, QueueFull, StoreUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    retry_after_seconds: int


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class CollectorApi:
    def __init__(
        self, store: Store, writer: BatchWriter, limits: Limits, behaviour: Behaviour, bucket_seconds: int
    ) -> None:
        self.store = store
        self.writer = writer
        self.limits = limits
        self.behaviour = behaviour
        self.bucket_seconds = bucket_seconds
        """Width of the baseline buckets, which GET /v1/baselines reads."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/batches", self.ingest, methods=["POST"]),
            Route("/v1/spans", self.spans, methods=["GET"]),
            Route("/v1/events", self.events, methods=["GET"]),
            Route("/v1/instances", self.instances, methods=["GET"]),
            Route("/v1/apis", self.apis, methods=["GET"]),
            Route("/v1/openapi.json", self.openapi, methods=["GET"]),
            Route("/v1/actors", self.actors, methods=["GET"]),
            Route("/v1/clusters", self.clusters, methods=["GET"]),
            Route("/v1/flows", self.flows, methods=["GET"]),
            Route("/v1/baselines", self.baselines, methods=["GET"]),
            Route("/v1/incidents", self.incidents, methods=["GET"]),
            Route("/v1/service-map", self.service_map, methods=["GET"]),
            Route("/v1/blocklist", self.blocklist, methods=["GET"]),
            Route("/v1/health", self.health, methods=["GET"]),
        ]

    async def ingest(self, request: Request) -> JSONResponse:
        received_ns = time.time_ns()
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            return error(415, f"Content-Type must be application/json, got {content_type!r}")
        if self.writer.full():
            return self._overloaded(429, f"write queue full ({self.writer.capacity} batches waiting)")
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return error(413, f"body larger than {limit} bytes")
        try:
            body = await read_body(request.stream(), request.headers.get("content-encoding", ""), limit)
            batch = decode_batch(body)
            if "sketches" in batch or "inventory" in batch:
                batch = await run_in_threadpool(prepare, batch)
            stored = await asyncio.wrap_future(self.writer.submit(batch, received_ns))
        except BodyError as exc:
            return error(exc.status, str(exc))
        except InvalidBatch as exc:
            return error(400, f"invalid batch: {exc}", path=exc.path)
        except QueueFull as exc:
            return self._overloaded(429, str(exc))
        except StoreUnavailable as exc:
            return self._overloaded(503, str(exc))
        return JSONResponse(
            {
                "accepted": {"spans": stored.spans, "events": stored.events},
                "duplicate": stored.duplicate,
                "blocklist": self.writer.ingest.blocklist.entries(time.time_ns()),
            },
            status_code=202,
        )

    def _overloaded(self, status: int, message: str) -> JSONResponse:
        response = error(status, message)
        response.headers["Retry-After"] = str(self.limits.retry_after_seconds)
        return response

    async def spans(self, request: Request) -> JSONResponse:
        return await self._page(SPANS, request)

    async def events(self, request: Request) -> JSONResponse:
        return await self._page(EVENTS, request)

    async def _page(self, table: Table, request: Request) -> JSONResponse:
        return await self._query(page, table, dict(request.query_params))

    async def apis(self, request: Request) -> JSONResponse:
        return await self._query(list_apis, dict(request.query_params), time.time_ns())

    async def openapi(self, request: Request) -> JSONResponse:
        service = request.query_params.get("service")
        if not service:
            return error(400, "service: required, e.g. /v1/openapi.json?service=shop")
        try:
            return await self._query(openapi_document, service)
        except UnknownService as exc:
            return error(404, str(exc))

    async def actors(self, request: Request) -> JSONResponse:
        return await self._query(list_actors, dict(request.query_params), self.behaviour, time.time_ns())

    async def clusters(self, request: Request) -> JSONResponse:
        return await self._query(self.behaviour.clusters, dict(request.query_params), time.time_ns())

    async def flows(self, request: Request) -> JSONResponse:
        return await self._query(self.behaviour.flows, dict(request.query_params), time.time_ns())

    async def baselines(self, request: Request) -> JSONResponse:
        return await self._query(list_baselines, dict(request.query_params), self.bucket_seconds)

    async def incidents(self, request: Request) -> JSONResponse:
        return await self._query(list_incidents, dict(request.query_params), time.time_ns())

    async def service_map(self, request: Request) -> JSONResponse:
        return await self._query(service_map)

    async def blocklist(self, request: Request) -> JSONResponse:
        return JSONResponse({"blocklist": self.writer.ingest.blocklist.entries(time.time_ns())})

    async def _query(self, query: Callable[..., Any], *args: Any) -> JSONResponse:
        """Run a query in a worker thread; a bad query parameter is a 400 naming it."""
        try:
            return JSONResponse(await run_in_threadpool(self._read, query, *args))
        except QueryError as exc:
            return error(400, str(exc))

    def _read(self, query: Callable[..., T], *args: Any) -> T:
        """Run ``query(connection, *args)`` on a read-only connection (in a worker thread)."""
        with self.store.reader() as conn:
            return query(conn, *args)

    async def instances(self, request: Request) -> JSONResponse:
        service = request.query_params.get("service")
        return JSONResponse({"instances": await run_in_threadpool(self._read, instances, service)})

    async def health(self, request: Request) -> JSONResponse:
        try:
            counts = await run_in_threadpool(self._read, totals)
            used = await run_in_threadpool(self._read, used_bytes)
        except sqlite3.Error as exc:
            return error(503, f"database unavailable: {exc}", ok=False)
        return JSONResponse(
            {
                "ok": True,
                "db": str(self.store.path),
                "counts": counts,
                "storage": {"used_bytes": used},
                "queue": {
                    "depth": self.writer.depth,
                    "pending": self.writer.pending,
                    "capacity": self.writer.capacity,
                },
            }
        )
