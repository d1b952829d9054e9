"""The user inputs of one request: every value the client controls, flattened with the path that names it
(``query.name``, ``body.user.email``, ``path.id``, ``cookie.session``, ``header.user-agent``).

Built at most once per request, and only when a sink check runs inside one, from what the request-path
core already holds (raw query string, captured body, headers, path parameters). Values are decoded the
way the app decodes them (URL-decoding of query and form, JSON; where frameworks disagree, as on invalid
UTF-8 escapes, every framework's reading is kept), kept once each (the first path that carried a value
names it), and bounded: at most ``limit`` values, the rest counted, so a 10,000-field
query or a 10,000-level JSON document costs a bounded amount and never raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, unquote_to_bytes

from tracesec.capture import is_json, media_type

if TYPE_CHECKING:
    from tracesec.context import RequestContext

MAX_PATH_DEPTH = 32
"""JSON levels named in a path; deeper values keep the path of their level-32 ancestor."""
_WALK_STEPS_PER_INPUT = 8
_HEADER_NAMES = frozenset({"user-agent", "referer"})
_WORDS = re.compile(r"\w+")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_DISPOSITION_PARAM = re.compile(rb'\b(name|filename)="([^"]*)"', re.IGNORECASE)
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


class UserInputs:
    """The request's inputs as (path, value) pairs; ``structural`` holds the ones that could change the
    structure of a query, command or path (two characters or more, not only word characters: every
    detector but SSRF lets those through)."""

    __slots__ = ("all", "dropped", "structural", "structural_values")

    def __init__(self, by_value: Mapping[str, str], dropped: int) -> None:
        self.all: tuple[tuple[str, str], ...] = tuple((path, value) for value, path in by_value.items())
        self.structural = tuple(
            (path, value) for path, value in self.all if len(value) > 1 and not _WORDS.fullmatch(value)
        )
        self.structural_values = tuple(value for _, value in self.structural)
        """The values alone: the common-path test is a bare loop of substring searches over these."""
        self.dropped = dropped


NO_INPUTS = UserInputs({}, 0)


class _Collector:
    """Keeps each distinct value once, up to ``limit``; counts what did not fit."""

    __slots__ = ("by_value", "dropped", "ignored", "limit")

    def __init__(self, limit: int, ignored: tuple[str, ...] = ()) -> None:
        self.by_value: dict[str, str] = {}
        self.limit = limit
        self.ignored = ignored
        self.dropped = 0

    @property
    def full(self) -> bool:
        return len(self.by_value) >= self.limit

    def add(self, path: str, value: str) -> None:
        if not value or value in self.by_value:
            return
        if self.ignored and any(fnmatchcase(path, pattern) for pattern in self.ignored):
            return
        if self.full:
            self.dropped += 1
        else:
            self.by_value[value] = path


def extract_inputs(ctx: RequestContext, limit: int, ignored: tuple[str, ...] = ()) -> UserInputs:
    """Every input of ``ctx``: path parameters, query, body (form, JSON, multipart, text), cookies, and the
    headers clients set freely (User-Agent, Referer, X-*); paths matching an ``ignored`` glob are left out
    (the allow-list: inputs that legitimately carry SQL or paths)."""
    collector = _Collector(limit, ignored)
    for name, value in (ctx.path_params or {}).items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            collector.add(f"path.{name}", str(value))
    for name, values in form_fields(wsgi_text(ctx.query_string), collector):
        for value in values:
            collector.add(f"query.{name}", value)
    if ctx.request_body:
        body_inputs(bytes(ctx.request_body), ctx.headers.get("content-type"), collector)
    cookie_header = ctx.headers.get("cookie")
    if cookie_header:
        for name, value in cookies(cookie_header):
            collector.add(f"cookie.{name}", value)
    for name, value in ctx.headers.items():
        if name in _HEADER_NAMES or name.startswith("x-"):
            collector.add(f"header.{name}", value)
    return UserInputs(collector.by_value, collector.dropped)


def wsgi_text(raw: str) -> str:
    """A WSGI string (latin-1 code points of the raw bytes) as the UTF-8 text the app decodes."""
    try:
        return raw.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return raw


def form_fields(text: str, collector: _Collector) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``a=1&b=x%27`` as decoded (name, values) pairs (see ``url_decodings``), like ``parse_qsl`` but lazy:
    it stops once the collector is full, counting the remaining fields as dropped."""
    if not text:
        return
    position = 0
    while position <= len(text):
        end = text.find("&", position)
        if end < 0:
            end = len(text)
        field = text[position:end]
        position = end + 1
        if not field:
            continue
        if collector.full:
            remaining = text.count("&", position) + 1 if position <= len(text) else 0
            collector.dropped += 1 + remaining
            return
        name, _, value = field.partition("=")
        yield unquote_plus(name), url_decodings(value)


def url_decodings(text: str) -> tuple[str, ...]:
    """A URL-encoded form value as the frameworks decode it: one value, or two when it holds escapes that
    are not valid UTF-8 (``%C0%AF``): ``parse_qsl``, Django and Starlette replace them with U+FFFD, while
    Werkzeug (Flask) keeps them as ``%XX`` text, which the app may then splice into a path as is."""
    if "%" not in text:
        return (text.replace("+", " "),)
    raw = unquote_to_bytes(text.replace("+", " "))
    try:
        return (raw.decode("utf-8"),)
    except UnicodeDecodeError:
        kept = _ESCAPED_BYTE.sub(_as_escape, raw.decode("utf-8", "surrogateescape"))
        return raw.decode("utf-8", "replace"), kept


def _as_escape(match: re.Match[str]) -> str:
    return f"%{ord(match.group()) - 0xDC00:02X}"


def body_inputs(body: bytes, content_type: str | None, collector: _Collector) -> None:
    kind = media_type(content_type)
    if kind == "multipart/form-data":
        boundary = _BOUNDARY.search(content_type or "")
        if boundary:
            for path, value in multipart_fields(body, boundary.group(1).encode("latin-1")):
                collector.add(path, value)
        return
    text = body.decode("utf-8", "replace")
    if kind == "application/x-www-form-urlencoded":
        for name, values in form_fields(text, collector):
            for value in values:
                collector.add(f"body.{name}", value)
    elif is_json(content_type):
        json_inputs(text, collector)
    elif kind.startswith("text/") or kind.endswith("xml"):
        collector.add("body", text)


def json_inputs(text: str, collector: _Collector) -> None:
    """Every string and number of a JSON document with its path. A document the parser refuses (cut at
    the capture cap, nested deeper than the parser goes) still yields its string literals, under ``body``."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        for literal in _JSON_STRING.finditer(text):
            if collector.full:
                collector.dropped += 1
                return
            try:
                collector.add("body", json.loads(literal.group()))
            except ValueError:
                continue
        return
    walk_json(document, collector)


def walk_json(document: Any, collector: _Collector) -> None:
    """Depth-first, without recursion; paths name at most MAX_PATH_DEPTH levels, and the walk takes a
    bounded number of steps however the document is shaped."""
    stack: list[tuple[str, int, Any]] = [("body", 0, document)]
    steps = _WALK_STEPS_PER_INPUT * collector.limit
    while stack and steps > 0 and not collector.full:
        steps -= 1
        path, depth, node = stack.pop()
        if isinstance(node, str):
            collector.add(path, node)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            collector.add(path, repr(node))
        elif isinstance(node, (dict, list)):
            children: Iterable[tuple[Any, Any]] = node.items() if isinstance(node, dict) else enumerate(node)
            named = depth < MAX_PATH_DEPTH
            stack.extend(
                (f"{path}.{key}" if named else path, depth + 1, child)
                for key, child in reversed(list(children))
            )
    collector.dropped += len(stack)


def multipart_fields(body: bytes, boundary: bytes) -> Iterator[tuple[str, str]]:
    """Field values (``body.<name>``) and file names (``body.<name>.filename``) of a multipart body; file
    contents are not inputs."""
    for part in body.split(b"--" + boundary):
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        params = {key.lower(): value for key, value in _DISPOSITION_PARAM.findall(head)}
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in params:
            yield f"body.{name}.filename", params[b"filename"].decode("utf-8", "replace")
        else:
            yield f"body.{name}", content.removesuffix(b"\r\n").decode("utf-8", "replace")


def cookies(header: str) -> Iterator[tuple[str, str]]:
    """(name, value) pairs of a Cookie header, surrounding quotes removed as cookie parsers do."""
    for pair in header.split(";"):
        name, separator, value = pair.partition("=")
        if separator:
            value = value.strip()
            if len(value) > 1 and value[0] == value[-1] == '"':
                value = value[1:-1]
            yield name.strip(), value
