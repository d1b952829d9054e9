"""sqlite3. Its Connection and Cursor are C types that cannot be patched, so ``connect`` is wrapped to
pass a traced subclass of the requested ``factory`` (and cursors likewise): the objects the app gets are
real sqlite3 connections and cursors, so isinstance, row factories, ``with conn:``, backup and the rest
behave as before. ``Connection.execute*`` run queries in C without the cursor's Python methods, so both
levels are traced (an inner level would see the query as already running)."""

from __future__ import annotations

import sqlite3
from types import ModuleType
from typing import Any

from tracesec.integrations._sql import DbCall, database_name_of_path, describe_database, record_rows
from tracesec.patching import Args, Kwargs, Patcher, Wrapped

SYSTEM = "sqlite"
_FACTORY_POSITION = 5  # connect(database, timeout, detect_types, isolation_level, check_same_thread, factory)
_traced_classes: dict[type, type] = {}


def patch(module: ModuleType, patcher: Patcher) -> None:
    """``sqlite3.connect`` and ``sqlite3.dbapi2.connect`` (SQLAlchemy's) are two names for one function;
    each is wrapped once, here, where both exist."""
    patcher.wrap(module, "connect", _connect)
    patcher.wrap(module.dbapi2, "connect", _connect)


def _connect(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if len(args) > _FACTORY_POSITION:
        factory = traced_class(args[_FACTORY_POSITION], _TracedConnection)
        args = (*args[:_FACTORY_POSITION], factory, *args[_FACTORY_POSITION + 1 :])
    else:
        kwargs["factory"] = traced_class(kwargs.get("factory", sqlite3.Connection), _TracedConnection)
    return wrapped(*args, **kwargs)


def traced_class(base: type, mixin: type) -> type:
    """``base`` with ``mixin`` in front, made once per base; an already traced class is kept."""
    if issubclass(base, mixin):
        return base
    traced = _traced_classes.get(base)
    if traced is None:
        traced = type(base.__name__, (mixin, base), {"__module__": base.__module__})
        _traced_classes[base] = traced
    return traced


def _run(owner: Any, database: str | None, method: Any, sql: Any, rest: tuple[Any, ...]) -> Any:
    """One traced query, ``method(sql, *rest)`` on ``owner`` (a cursor, or the connection's shortcut)."""
    parameters = rest[0] if rest else None
    query = sql if isinstance(sql, str) else str(sql)
    with DbCall(SYSTEM, query, parameters, owner, method.__name__) as span:
        describe_database(span, SYSTEM, database)
        result = method(sql, *rest)
        record_rows(span, getattr(result, "rowcount", None))
    return result


class _TracedConnection(sqlite3.Connection):
    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._tracesec_database = database_name_of_path(database)

    def cursor(self, factory: Any = sqlite3.Cursor) -> Any:
        return super().cursor(traced_class(factory, _TracedCursor))

    def execute(self, sql: Any, *parameters: Any) -> Any:
        return _run(self, self._tracesec_database, super().execute, sql, parameters)

    def executemany(self, sql: Any, *parameters: Any) -> Any:
        return _run(self, self._tracesec_database, super().executemany, sql, parameters)

    def executescript(self, sql_script: Any) -> Any:
        return _run(self, self._tracesec_database, super().executescript, sql_script, ())


class _TracedCursor(sqlite3.Cursor):
    def _database(self) -> str | None:
        return getattr(self.connection, "_tracesec_database", None)

    def execute(self, sql: Any, *parameters: Any) -> Any:
        return _run(self, self._database(), super().execute, sql, parameters)

    def executemany(self, sql: Any, *parameters: Any) -> Any:
        return _run(self, self._database(), super().executemany, sql, parameters)

    def executescript(self, sql_script: Any) -> Any:
        return _run(self, self._database(), super().executescript, sql_script, ())
