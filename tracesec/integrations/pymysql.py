"""PyMySQL: ``Cursor.execute`` and ``executemany`` (which runs ``execute`` underneath: one query)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.integrations._sql import DbCall, describe_database, in_query, record_rows
from tracesec.patching import Args, Kwargs, Patcher, Wrapped

SYSTEM = "mysql"


def patch(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Cursor, "execute", _execute)
    patcher.wrap(module.Cursor, "executemany", _execute)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode(errors="replace") if isinstance(value, (bytes, bytearray)) else str(value)


def _execute(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_query(instance):
        return wrapped(*args, **kwargs)
    query = args[0] if args else kwargs["query"]
    parameters = args[1] if len(args) > 1 else kwargs.get("args")
    with DbCall(SYSTEM, _text(query) or "", parameters, instance, wrapped.__name__) as span:
        if span is not None:
            connection = instance.connection
            describe_database(span, SYSTEM, _text(connection.db), connection.host, connection.port)
        result = wrapped(*args, **kwargs)
        record_rows(span, instance.rowcount)
    return result
