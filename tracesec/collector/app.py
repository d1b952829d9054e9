"""The collector as a Starlette app: settings in, ASGI app out; the writer thread lives as long as it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from tracesec.collector.auth import BearerAuth
from tracesec.collector.routes import CollectorApi, Limits
from tracesec.collector.settings import CollectorSettings
from tracesec.collector.store import Store
from tracesec.collector.writer import BatchWriter

_WRITER_STOP_TIMEOUT = 30.0


def create_app(settings: CollectorSettings) -> Starlette:
    """Opens (and on first start creates) the database now, so a bad path fails before listening."""
    store = Store(settings.db_path)
    store.initialise()
    writer = BatchWriter(store, settings.queue_size)
    api = CollectorApi(store, writer, Limits(settings.max_body_bytes, settings.retry_after_seconds))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        writer.start()
        try:
            yield
        finally:
            writer.stop(_WRITER_STOP_TIMEOUT)

    return Starlette(
        routes=api.routes(),
        middleware=[Middleware(BearerAuth, keys=settings.api_keys)],
        lifespan=lifespan,
    )
