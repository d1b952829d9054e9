"""Database spans and SQL sink checks: sqlite3 files, a real PostgreSQL server (psycopg sync and async),
SQLAlchemy on both (one span and one check per query, not one more from the driver), and PyMySQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.downstream.conftest import Postgres, Traced
from tracesec.events import Blocked
from tracesec.integrations._sql import query_operation, sanitize_query
from tracesec.spans import format_span_id


@pytest.mark.parametrize(
    ("query", "dialect", "expected"),
    [
        ("SELECT * FROM t WHERE a = 1 AND b = 'x''y'", "generic", "SELECT * FROM t WHERE a = ? AND b = ?"),
        ("select t1.c2 from t1 where x > -2.5e3", "generic", "select t1.c2 from t1 where x > -?"),
        (
            'SELECT "col 1" FROM "t" WHERE n = "secret"',
            "postgresql",
            'SELECT "col 1" FROM "t" WHERE n = "secret"',
        ),
        ('SELECT `a` FROM t WHERE n = "secret"', "mysql", "SELECT `a` FROM t WHERE n = ?"),
        ("SELECT $tag$ body 'q' $tag$, $1, 0xFF", "postgresql", "SELECT ?, $1, ?"),
        ("/* app 7 */ SELECT 1 -- note 9", "generic", "/* app 7 */ SELECT ? -- note 9"),
        ("SELECT 'unterminated secret", "generic", "SELECT ?"),
        (
            "INSERT INTO t VALUES (%s, %(name)s, :p, ?)",
            "generic",
            "INSERT INTO t VALUES (%s, %(name)s, :p, ?)",
        ),
        ("UPDATE t SET a = E'it\\'s'", "postgresql", "UPDATE t SET a = ?"),
    ],
)
def test_sanitize_replaces_every_literal(query: str, dialect: str, expected: str) -> None:
    assert sanitize_query(query, dialect) == expected


def test_operation_skips_comments_and_parentheses() -> None:
    assert query_operation("  /* x */ -- y\n (select 1) union (select 2)") == "SELECT"
    assert query_operation("") == ""


def test_sqlite_spans_and_the_connection_still_behaves(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    database = tmp_path / "app.db"
    with agent.request() as ctx:
        connection = sqlite3.connect(database)
        assert isinstance(connection, sqlite3.Connection)
        connection.row_factory = sqlite3.Row
        connection.executescript("CREATE TABLE users (id INTEGER, name TEXT); CREATE TABLE t (x);")
        with connection:
            connection.executemany("INSERT INTO users VALUES (?, ?)", [(1, "ann"), (2, "bob")])
        cursor = connection.cursor()
        assert isinstance(cursor, sqlite3.Cursor)
        row = cursor.execute("SELECT name FROM users WHERE id = 2 AND name = 'bob'").fetchone()
        assert row["name"] == "bob" and isinstance(row, sqlite3.Row)
        cursor.execute("DELETE FROM users WHERE id = ?", (1,))
        connection.commit()
        connection.close()
        server_span = ctx.span_id
        assert ("sqlite", "app.db") in ctx.downstream
    spans = agent.client_spans()
    assert [s["name"] for s in spans] == ["CREATE app.db", "INSERT app.db", "SELECT app.db", "DELETE app.db"]
    assert all(s["parent_span_id"] == format_span_id(server_span) for s in spans)
    select, delete = spans[2]["attributes"], spans[3]["attributes"]
    assert select["db.system"] == "sqlite" and select["db.namespace"] == "app.db"
    assert select["db.query.text"] == "SELECT name FROM users WHERE id = ? AND name = ?"
    assert "db.query.parameters" not in delete
    assert delete["db.response.returned_rows"] == 1
    assert spans[1]["attributes"]["db.response.returned_rows"] == 2
    assert [c.details for c in agent.checks("sql")] == [
        {"dialect": "sqlite", "system": "sqlite", "sink": f"sqlite3.{method}"}
        for method in (
            "Connection.executescript",
            "Connection.executemany",
            "Cursor.execute",
            "Cursor.execute",
        )
    ]
    assert sqlite3.connect(database).execute("SELECT count(*) FROM users").fetchone() == (1,)


def test_sqlite_custom_factories_are_kept(traced: Callable[..., Traced]) -> None:
    class MyConnection(sqlite3.Connection):
        marker = "mine"

    class MyCursor(sqlite3.Cursor):
        pass

    agent = traced()
    with agent.request():
        connection = sqlite3.connect(":memory:", factory=MyConnection)
        assert isinstance(connection, MyConnection) and connection.marker == "mine"
        cursor = connection.cursor(MyCursor)
        assert isinstance(cursor, MyCursor)
        cursor.execute("SELECT 1")
        positional = sqlite3.connect(":memory:", 5.0, 0, "DEFERRED", True, MyConnection)
        assert isinstance(positional, MyConnection)
        positional.execute("SELECT 2")
    assert len(agent.client_spans()) == 2


def test_parameters_are_captured_only_when_configured(traced: Callable[..., Traced]) -> None:
    agent = traced(capture_db_parameters=True)
    with agent.request():
        sqlite3.connect(":memory:").execute("SELECT ?, ?", (42, "Bearer abcdefghijklmnop"))
    assert agent.client_span()["attributes"]["db.query.parameters"] == ["42", "'[REDACTED]'"]


def test_a_blocked_query_never_runs(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    connection = sqlite3.connect(tmp_path / "b.db")
    connection.execute("CREATE TABLE t (x)")
    agent.block.add("sql")
    with agent.request(), pytest.raises(Blocked):
        connection.execute("INSERT INTO t VALUES (1)")
    agent.block.clear()
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_sqlite_errors_are_recorded(traced: Callable[..., Traced]) -> None:
    agent = traced()
    with agent.request(), pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    span = agent.client_span()
    assert span["status"] == "error" and span["attributes"]["error.type"] == "OperationalError"


def test_sqlalchemy_over_sqlite_is_one_span_and_one_check(
    traced: Callable[..., Traced], tmp_path: Path
) -> None:
    import sqlalchemy

    agent = traced()
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'orm.db'}")
    engine.connect().close()  # the dialect's first-connect queries, outside the request
    agent.sink_calls.clear()
    with agent.request() as ctx, engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE t (x INTEGER)"))
        connection.execute(sqlalchemy.text("INSERT INTO t VALUES (:x)"), [{"x": 1}, {"x": 2}])
        table = sqlalchemy.table("t", sqlalchemy.column("x"))
        assert connection.execute(sqlalchemy.select(table).where(table.c.x == 2)).scalar() == 2
        assert ("sqlite", "orm.db") in ctx.downstream
    spans = agent.client_spans()
    assert [s["attributes"]["db.operation.name"] for s in spans] == ["CREATE", "INSERT", "SELECT"]
    assert len(agent.checks("sql")) == 3
    assert spans[2]["attributes"]["db.query.text"] == "SELECT t.x \nFROM t \nWHERE t.x = ?"


def test_sqlalchemy_errors_close_the_query(traced: Callable[..., Traced]) -> None:
    import sqlalchemy

    agent = traced()
    engine = sqlalchemy.create_engine("sqlite://")
    engine.connect().close()
    agent.sink_calls.clear()
    with agent.request(), engine.connect() as connection:
        with pytest.raises(sqlalchemy.exc.OperationalError):
            connection.execute(sqlalchemy.text("SELECT * FROM missing"))
        connection.execute(sqlalchemy.text("SELECT 1"))
    failed, ok = agent.client_spans()
    assert failed["status"] == "error" and ok["status"] == "unset"
    assert len(agent.checks("sql")) == 2


@pytest.mark.postgres
def test_psycopg_sync(traced: Callable[..., Traced], postgres: Postgres) -> None:
    import psycopg
    from psycopg import sql

    agent = traced()
    with agent.request() as ctx, psycopg.connect(postgres.conninfo, autocommit=True) as connection:
        connection.execute("CREATE TEMP TABLE t (x int)")
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO t VALUES (%s)", [(1,), (2,), (3,)])
            cursor.execute(sql.SQL("SELECT x FROM {} WHERE x > 1").format(sql.Identifier("t")))
            assert cursor.fetchall() == [(2,), (3,)]
        assert ("postgresql", "appdb") in ctx.downstream
    create, insert, select = agent.client_spans()
    assert select["name"] == "SELECT appdb"
    attributes = select["attributes"]
    assert attributes["db.system"] == "postgresql" and attributes["db.namespace"] == "appdb"
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == postgres.port
    assert attributes["db.query.text"] == 'SELECT x FROM "t" WHERE x > ?'
    assert attributes["db.response.returned_rows"] == 2
    assert insert["attributes"]["db.response.returned_rows"] == 3
    checks = agent.checks("sql")
    assert [c.value for c in checks][2] == 'SELECT x FROM "t" WHERE x > 1'
    assert checks[0].details == {
        "dialect": "postgresql",
        "system": "postgresql",
        "sink": "psycopg.Cursor.execute",
    }
    assert checks[1].details["sink"] == "psycopg.Cursor.executemany"


@pytest.mark.postgres
def test_psycopg_async_and_server_cursor(traced: Callable[..., Traced], postgres: Postgres) -> None:
    import psycopg

    agent = traced()

    async def work() -> list[tuple[int]]:
        async with await psycopg.AsyncConnection.connect(postgres.conninfo) as connection:
            cursor = await connection.execute("SELECT generate_series(1, 3)")
            rows = await cursor.fetchall()
            async with connection.cursor(name="named") as named:
                await named.execute("SELECT 7")
                assert await named.fetchone() == (7,)
            return rows

    with agent.request():
        assert asyncio.run(work()) == [(1,), (2,), (3,)]
    series, named = agent.client_spans()
    assert series["attributes"]["db.query.text"] == "SELECT generate_series(?, ?)"
    assert named["attributes"]["db.query.text"] == "SELECT ?"


@pytest.mark.postgres
def test_sqlalchemy_over_psycopg_is_one_span_per_query(
    traced: Callable[..., Traced], postgres: Postgres
) -> None:
    import sqlalchemy

    agent = traced()
    engine = sqlalchemy.create_engine(postgres.url)
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))  # outside a request: checked, not recorded
    agent.sink_calls.clear()
    with agent.request(), engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT 40 + 2")).scalar() == 42
    [span] = agent.client_spans()
    assert span["attributes"]["db.system"] == "postgresql"
    assert span["attributes"]["db.namespace"] == "appdb"
    assert [c.value for c in agent.checks("sql")] == ["SELECT 40 + 2"]


def test_pymysql_checks_before_the_driver_runs(traced: Callable[..., Traced]) -> None:
    """No MySQL server here: an unconnected connection shows the check, the span and the driver's error."""
    import pymysql

    agent = traced()
    connection = pymysql.connections.Connection(host="127.0.0.1", database="shop", defer_connect=True)
    with agent.request() as ctx:
        with pytest.raises(pymysql.err.InterfaceError):
            connection.cursor().execute("SELECT * FROM orders WHERE id = %s", (5,))
        agent.block.add("sql")
        with pytest.raises(Blocked):
            connection.cursor().executemany("INSERT INTO t VALUES (%s)", [(1,), (2,)])
        assert ("mysql", "shop") in ctx.downstream
    span = agent.client_span()
    assert span["status"] == "error" and span["attributes"]["db.namespace"] == "shop"
    assert [c.details["dialect"] for c in agent.checks("sql")] == ["mysql", "mysql"]
