"""Reading spans and events back: equality filters, a time window and cursor paging.

Results come oldest first, ordered by (time, row id); the cursor is that pair for the last row returned,
so paging is stable while new batches arrive and a client can poll for what is new. Ranked lists
(endpoints, actors, incidents) page by position instead: their order changes as data arrives anyway.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tracesec.collector.validation import EVENT_FIELDS, SPAN_FIELDS

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_MAX_INT64 = 2**63 - 1


class QueryError(ValueError):
    """A query parameter the API cannot use; the message names it."""


@dataclass(frozen=True)
class Table:
    """What paging needs to know about one queryable table."""

    name: str
    columns: tuple[str, ...]
    time_column: str
    filters: Mapping[str, str]  # query parameter -> column


SPANS = Table(
    name="spans",
    columns=("service", "instance_id", *SPAN_FIELDS),
    time_column="start_time_unix_nano",
    filters={"service": "service", "route": "route", "trace_id": "trace_id"},
)
EVENTS = Table(
    name="events",
    columns=("service", "instance_id", *EVENT_FIELDS),
    time_column="time_unix_nano",
    filters={"service": "service", "type": "type"},
)


def _as_json(columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored row in its wire shape, plus the service and instance that sent it."""
    record = dict(zip(columns, row, strict=False))  # the row ends with its id, kept for the cursor
    record["attributes"] = json.loads(record["attributes"])
    if "blocked" in record:
        record["blocked"] = bool(record["blocked"])
    return record


def page(conn: sqlite3.Connection, table: Table, params: Mapping[str, str]) -> dict[str, Any]:
    """One page of ``table`` as ``{<table name>: [...], "next_cursor": str | None}``."""
    conditions: list[str] = []
    values: list[Any] = []
    for parameter, column in table.filters.items():
        if parameter in params:
            conditions.append(f"{column} = ?")
            values.append(params[parameter])
    for parameter, operator in (("since", ">="), ("until", "<")):
        if parameter in params:
            conditions.append(f"{table.time_column} {operator} ?")
            values.append(parse_time(params[parameter], parameter))
    if "cursor" in params:
        conditions.append(f"({table.time_column}, id) > (?, ?)")
        values.extend(_parse_cursor(params["cursor"]))
    limit = parse_limit(params.get("limit"))
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = conn.execute(
        f"SELECT {', '.join(table.columns)}, id FROM {table.name} {where}"
        f" ORDER BY {table.time_column}, id LIMIT ?",
        (*values, limit + 1),
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    time_index = table.columns.index(table.time_column)
    return {
        table.name: [_as_json(table.columns, row) for row in rows],
        "next_cursor": f"{rows[-1][time_index]}.{rows[-1][-1]}" if more else None,
    }


def parse_time(text: str, parameter: str) -> int:
    """Unix nanoseconds, or an ISO 8601 date/time (UTC unless it names an offset)."""
    number = _whole_number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"{parameter}: expected unix nanoseconds or an ISO 8601 time, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def required_service(params: Mapping[str, str], path: str) -> str:
    service = params.get("service")
    if not service:
        raise QueryError(f"service: required, e.g. {path}?service=shop")
    return service


def _parse_cursor(text: str) -> tuple[int, int]:
    time_text, _, row_text = text.partition(".")
    time_ns, row_id = _whole_number(time_text), _whole_number(row_text)
    if time_ns is None or row_id is None:
        raise QueryError(f"cursor: not a cursor this API returned: {text!r}")
    return time_ns, row_id


def offset_page(name: str, items: Sequence[Any], params: Mapping[str, str]) -> dict[str, Any]:
    """One page of an already ranked list: ``{name: [...], "next_cursor": str | None}``."""
    offset, limit = page_window(params)
    more = len(items) > offset + limit
    return {name: list(items[offset : offset + limit]), "next_cursor": str(offset + limit) if more else None}


def page_window(params: Mapping[str, str]) -> tuple[int, int]:
    """(offset, limit) of a ranked list's page; the cursor is the position of the page's first item."""
    text = params.get("cursor", "0")
    offset = _whole_number(text)
    if offset is None:
        raise QueryError(f"cursor: not a cursor this API returned: {text!r}")
    return offset, parse_limit(params.get("limit"))


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    limit = _whole_number(text)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {text!r}")
    return limit


def _whole_number(text: str) -> int | None:
    """A non-negative integer SQLite can hold, or None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > _MAX_INT64:
        return None
    return int(text)
