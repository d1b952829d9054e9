"""What every database integration shares: one query = one SQL sink check and one span, the query text
with its literal values replaced by ``?`` (done on the export worker), and the rule that a query already
opened by an outer layer (SQLAlchemy over a DB-API driver) is not opened again by the layer below.

The running query is marked by the DB-API cursor it runs on, not by a flag: SQLAlchemy's before/after
events are not a ``with`` block, and a mark it failed to clear must not hide other cursors' queries."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from tracesec.context import instrumentation_suppressed
from tracesec.hooks import check_sink
from tracesec.integrations._client_spans import (
    ClientSpan,
    SpanScope,
    current_config,
    note_dependency,
    start_client_span,
)
from tracesec.redaction import redact_text

MAX_QUERY_CHARS = 4096
MAX_PARAMETERS = 32
MAX_PARAMETER_CHARS = 256
SQL_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}

_LITERAL = re.compile(
    r"""(?P<keep>--[^\n]*|/\*.*?(?:\*/|\Z)|`[^`]*`?|\[[^\]\n]*\])"""  # comments, quoted names: as they are
    r"""|(?P<quoted>"(?:[^"]|"")*"?)"""  # a name, or a string in MySQL
    r"""|(?:\b[eEnNbBxX])?'(?:[^'\\]|''|\\.)*'?"""  # strings, also unterminated (to the end)
    r"""|\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)?\$|\Z)"""  # PostgreSQL dollar quoting
    r"""|(?<![\w$:.])(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])""",  # numbers
    re.DOTALL,
)
_OPERATION = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*([A-Za-z]+)", re.DOTALL)

_running_on: ContextVar[object] = ContextVar("tracesec_query_cursor", default=None)


def sanitize_query(query: str, dialect: str = "generic") -> str:
    """``query`` with every literal value (strings, numbers, dollar-quoted bodies) replaced by ``?``.
    Comments and quoted names are kept; in MySQL double quotes delimit strings, so those go too. An
    unterminated literal is replaced to the end, never half-kept."""
    strings_in_double_quotes = dialect == "mysql"

    def replace(match: re.Match[str]) -> str:
        if match.group("keep") is not None:
            return match.group()
        if match.group("quoted") is not None and not strings_in_double_quotes:
            return match.group()
        return "?"

    sanitized = _LITERAL.sub(replace, query)
    return sanitized if len(sanitized) <= MAX_QUERY_CHARS else sanitized[:MAX_QUERY_CHARS] + "..."


def _sanitized_text(query_and_dialect: tuple[str, str]) -> str:
    return sanitize_query(*query_and_dialect)


def query_operation(query: str) -> str:
    """The statement's first keyword (SELECT, INSERT, ...), after comments and parentheses."""
    match = _OPERATION.match(query, 0, 200)
    return match.group(1).upper() if match else ""


def describe_parameters(parameters: Any) -> list[str]:
    """Parameter values as short, redacted strings (only when ``capture_db_parameters`` is on)."""
    if isinstance(parameters, dict):
        values = [f"{name}={value!r}" for name, value in list(parameters.items())[:MAX_PARAMETERS]]
    elif isinstance(parameters, (list, tuple)):
        values = [repr(value) for value in parameters[:MAX_PARAMETERS]]
    else:
        values = [repr(parameters)]
    return [redact_text(value[:MAX_PARAMETER_CHARS]) for value in values]


def in_query(cursor: object) -> bool:
    """True while an outer layer's query runs on ``cursor``: the driver underneath records nothing."""
    return _running_on.get() is cursor


def database_name_of_path(path: Any) -> str:
    """SQLite names a database by its file: the base name, or ``:memory:``."""
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    if text.startswith("file:"):
        text = text[5:].split("?", 1)[0]
    return os.path.basename(text) or text


def method_name(owner: object, method: str) -> str:
    """The qualified name of ``owner``'s ``method`` (``sqlite3.Cursor.execute``) that events name as the
    sink: the class the app holds, or the DB-API cursor an ORM runs the query on."""
    cls = type(owner)
    return f"{cls.__module__}.{cls.__qualname__}.{method}"


class DbCall:
    """``with DbCall(system, query, parameters, cursor) as span:`` around one query. Checks the SQL sink
    (which may raise Blocked before the query runs), records the span and marks ``cursor`` as running a
    query for the layers below. A no-op inside an outer layer's query and on tracesec's own threads.
    ``method`` is the cursor method running the query, named in the sink check's events."""

    __slots__ = ("_scope", "_token", "cursor", "method", "parameters", "query", "system")

    def __init__(
        self, system: str, query: str, parameters: Any, cursor: object, method: str = "execute"
    ) -> None:
        self.system = system
        self.query = query
        self.parameters = parameters
        self.cursor = cursor
        self.method = method
        self._scope = SpanScope(None)
        self._token: Token[object] | None = None

    @property
    def span(self) -> ClientSpan | None:
        return self._scope.span

    def __enter__(self) -> ClientSpan | None:
        if _running_on.get() is self.cursor or instrumentation_suppressed():
            return None
        dialect = SQL_DIALECTS.get(self.system, "generic")
        sink = method_name(self.cursor, self.method)
        check_sink("sql", self.query, {"dialect": dialect, "system": self.system, "sink": sink})
        span = start_client_span(self.system)
        if span is not None:
            operation = query_operation(self.query)
            span.name = operation or self.system
            span.attributes["db.system"] = self.system
            if operation:
                span.attributes["db.operation.name"] = operation
            span.defer("db.query.text", _sanitized_text, (self.query, dialect))
            config = current_config()
            if self.parameters is not None and config is not None and config.capture_db_parameters:
                span.attributes["db.query.parameters"] = describe_parameters(self.parameters)
        self._scope = SpanScope(span)
        self._token = _running_on.set(self.cursor)
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _running_on.reset(self._token)
            self._token = None
        self._scope.__exit__(exc_type, exc, tb)


def describe_database(
    span: ClientSpan | None, system: str, name: str | None, host: str | None = None, port: int | None = None
) -> None:
    """Database name and server of a recorded query, also added to the request's service map."""
    if span is None:
        return
    if name:
        span.attributes["db.namespace"] = name
        span.name = f"{span.name} {name}"
    if host:
        span.attributes["server.address"] = host
    if port:
        span.attributes["server.port"] = port
    note_dependency(system, name or host or system)


def record_rows(span: ClientSpan | None, rowcount: Any) -> None:
    """Rows returned or affected, when the driver knows (DB-API reports -1 otherwise)."""
    if span is not None and isinstance(rowcount, int) and rowcount >= 0:
        span.attributes["db.response.returned_rows"] = rowcount
