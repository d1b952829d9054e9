"""The collector as a Starlette app: settings in, ASGI app out; the writer thread and the baseline job's
thread live as long as it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from tracesec.collector import dashboard
from tracesec.collector.auth import BearerAuth
from tracesec.collector.baseline_job import BaselineJob
from tracesec.collector.behaviour import Behaviour
from tracesec.collector.blocklist import BlockPolicy
from tracesec.collector.ingest import Ingest
from tracesec.collector.retention import RetentionPolicy
from tracesec.collector.routes import CollectorApi, Limits
from tracesec.collector.settings import CollectorSettings
from tracesec.collector.store import Store
from tracesec.collector.writer import BatchWriter

_WRITER_STOP_TIMEOUT = 30.0


def create_app(settings: CollectorSettings) -> Starlette:
    """Opens (and on first start creates) the database now, so a bad path fails before listening."""
    store = Store(settings.db_path)
    store.initialise()
    ingest = Ingest(
        BlockPolicy(seconds=settings.block_seconds, min_instances=settings.block_min_instances),
        drift_grace_seconds=settings.drift_grace_minutes * 60,
    )
    retention = RetentionPolicy(
        max_age_seconds=None if settings.retention_days is None else settings.retention_days * 86_400,
        max_bytes=None if settings.max_db_mb is None else settings.max_db_mb * 1024 * 1024,
        interval_seconds=settings.retention_interval_seconds,
    )
    writer = BatchWriter(store, ingest, retention, settings.queue_size)
    baselines = BaselineJob(
        store, writer, settings.analysis_interval_seconds, settings.baseline_bucket_seconds
    )
    behaviour = Behaviour(settings.analysis_window_hours * 3600, settings.analysis_interval_seconds)
    api = CollectorApi(
        store,
        writer,
        Limits(settings.max_body_bytes, settings.retry_after_seconds),
        behaviour,
        settings.baseline_bucket_seconds,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        writer.start()
        baselines.start()
        try:
            yield
        finally:
            baselines.stop(_WRITER_STOP_TIMEOUT)
            writer.stop(_WRITER_STOP_TIMEOUT)

    return Starlette(
        routes=[*api.routes(), *dashboard.routes()],
        middleware=[Middleware(BearerAuth, keys=settings.api_keys)],
        lifespan=lifespan,
    )
