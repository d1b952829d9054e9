"""psycopg 3, sync and async: ``execute``/``executemany`` of the client-side, server-side and raw cursors
(``Connection.execute`` goes through them), and ``stream``, checked before it runs."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.hooks import check_sink
from tracesec.integrations._client_spans import ClientSpan
from tracesec.integrations._sql import DbCall, describe_database, in_query, method_name, record_rows
from tracesec.patching import Args, Kwargs, Patcher, Wrapped

SYSTEM = "postgresql"


def patch(module: ModuleType, patcher: Patcher) -> None:
    for cursor_class in (module.Cursor, module.ServerCursor):
        patcher.wrap(cursor_class, "execute", _execute)
    for cursor_class in (module.AsyncCursor, module.AsyncServerCursor):
        patcher.wrap(cursor_class, "execute", _execute_async)
    patcher.wrap(module.Cursor, "executemany", _execute)
    patcher.wrap(module.AsyncCursor, "executemany", _execute_async)
    patcher.wrap(module.Cursor, "stream", _stream)
    patcher.wrap(module.AsyncCursor, "stream", _stream)


def query_text(query: Any, cursor: Any) -> str:
    """The SQL a query object stands for: str, bytes or a ``psycopg.sql`` composition."""
    if isinstance(query, str):
        return query
    if isinstance(query, (bytes, bytearray, memoryview)):
        return bytes(query).decode(errors="replace")
    as_string = getattr(query, "as_string", None)
    return str(as_string(cursor) if as_string is not None else query)


def _query_and_parameters(cursor: Any, args: Args, kwargs: Kwargs) -> tuple[str, Any]:
    query = args[0] if args else kwargs["query"]
    parameters = args[1] if len(args) > 1 else kwargs.get("params", kwargs.get("params_seq"))
    return query_text(query, cursor), parameters


def _describe_server(span: ClientSpan | None, cursor: Any) -> None:
    if span is not None:
        info = cursor.connection.info
        describe_database(span, SYSTEM, info.dbname, info.host, info.port)


def _execute(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_query(instance):
        return wrapped(*args, **kwargs)
    query, parameters = _query_and_parameters(instance, args, kwargs)
    with DbCall(SYSTEM, query, parameters, instance, wrapped.__name__) as span:
        _describe_server(span, instance)
        result = wrapped(*args, **kwargs)
        record_rows(span, instance.rowcount)
    return result


async def _execute_async(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_query(instance):
        return await wrapped(*args, **kwargs)
    query, parameters = _query_and_parameters(instance, args, kwargs)
    with DbCall(SYSTEM, query, parameters, instance, wrapped.__name__) as span:
        _describe_server(span, instance)
        result = await wrapped(*args, **kwargs)
        record_rows(span, instance.rowcount)
    return result


def _stream(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """A stream runs while the caller iterates, so it gets the sink check but no span."""
    if not in_query(instance):
        query, _ = _query_and_parameters(instance, args, kwargs)
        sink = method_name(instance, wrapped.__name__)
        check_sink("sql", query, {"dialect": SYSTEM, "system": SYSTEM, "sink": sink})
    return wrapped(*args, **kwargs)
