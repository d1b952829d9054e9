"""SQLAlchemy through its engine events, so every dialect is covered: ``before_cursor_execute`` opens the
query (sink check, span), ``after_cursor_execute`` and ``handle_error`` close it. The DB-API cursor it
runs on is marked, so a patched driver underneath (sqlite3, psycopg, pymysql) records nothing more.

Event listeners cannot be undone through the Patcher, so they are registered once per process and do
nothing while no agent is installed or this integration is disabled."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.agent import active
from tracesec.integrations._sql import DbCall, database_name_of_path, describe_database, record_rows
from tracesec.patching import Patcher

_CALL = "_tracesec_db_call"


def patch(module: ModuleType, patcher: Patcher) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    for name, listener in (
        ("before_cursor_execute", _before_cursor_execute),
        ("after_cursor_execute", _after_cursor_execute),
        ("handle_error", _handle_error),
    ):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)


def _enabled() -> bool:
    agent = active()
    return agent is not None and "sqlalchemy" not in agent.config.disabled_integrations


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if context is None or not _enabled():
        return
    system = conn.dialect.name
    call = DbCall(system, statement, parameters, cursor, "executemany" if executemany else "execute")
    span = call.__enter__()
    setattr(context, _CALL, call)
    if span is not None:
        url = conn.engine.url
        database = database_name_of_path(url.database or ":memory:") if system == "sqlite" else url.database
        describe_database(span, system, database, url.host, url.port)


def _after_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    call: DbCall | None = getattr(context, _CALL, None)
    if call is not None:
        delattr(context, _CALL)
        record_rows(call.span, cursor.rowcount)
        call.__exit__(None, None, None)


def _handle_error(exception_context: Any) -> None:
    context = exception_context.execution_context
    call: DbCall | None = getattr(context, _CALL, None)
    if call is not None:
        delattr(context, _CALL)
        error = exception_context.original_exception
        call.__exit__(type(error), error, error.__traceback__)
