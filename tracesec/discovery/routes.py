"""Endpoint identity: one OpenAPI-style path template (``/users/{uid}``) per endpoint.

Framework routes are rewritten from their own syntax (Werkzeug/Django ``<int:uid>``, Starlette
``{uid:int}``, Django regex ``(?P<uid>[0-9]+)``); where there is no route (a plain WSGI/ASGI app), the
concrete path is generalised by replacing the segments that look like identifiers, so that
``/users/42`` and ``/users/43`` are one endpoint and ``/users/me`` stays another.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tracesec.discovery.formats import DATE, EMAIL, UUID

_ANGLE_PARAMETER = re.compile(r"<(?:[A-Za-z_]\w*(?:\([^)]*\))?:)?([A-Za-z_]\w*)>")
_BRACE_PARAMETER = re.compile(r"\{([A-Za-z_]\w*)(?::[^}]*)?\}")
_HEX_ID = re.compile(r"[0-9a-fA-F]{8,}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{16,}={0,2}")
TEMPLATE_PARAMETER = re.compile(r"\{([^}/]+)\}")


@lru_cache(maxsize=2048)
def template_from_route(route: str) -> str:
    """The OpenAPI form of a framework's route template."""
    if "(?P<" in route or route.startswith("^"):
        route = _regex_route(route)
    template = _BRACE_PARAMETER.sub(r"{\1}", _ANGLE_PARAMETER.sub(r"{\1}", route))
    return template if template.startswith("/") else "/" + template


def _regex_route(pattern: str) -> str:
    """Django ``re_path`` patterns: named groups become parameters, anchors and escapes go."""
    out: list[str] = []
    position = 0
    unnamed = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "(":
            end = _closing_parenthesis(pattern, position)
            group = pattern[position:end]
            named = re.match(r"\(\?P<(\w+)>", group)
            if named:
                out.append("{" + named.group(1) + "}")
            elif not group.startswith("(?"):
                unnamed += 1
                out.append(f"{{param{unnamed}}}")
            position = end
            continue
        if char == "\\" and position + 1 < len(pattern):
            out.append(pattern[position + 1])
            position += 2
            continue
        if char not in "^$?":
            out.append(char)
        position += 1
    return "".join(out)


def _closing_parenthesis(pattern: str, start: int) -> int:
    depth = 0
    position = start
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return len(pattern)


def template_from_path(path: str) -> tuple[str, dict[str, str]]:
    """(template, {parameter: value}) for a concrete path: identifier-like segments become parameters
    named after the collection before them (``/users/42`` -> ``/users/{user_id}``), else ``{id}``."""
    segments = path.split("/")
    values: dict[str, str] = {}
    for index, segment in enumerate(segments):
        if segment and looks_like_identifier(segment):
            previous = segments[index - 1] if index else ""
            name = _parameter_name(previous if previous and not previous.startswith("{") else "")
            if name in values:
                name = f"{name}{len(values) + 1}"
            values[name] = segment
            segments[index] = "{" + name + "}"
    return ("/".join(segments) or "/", values)


def looks_like_identifier(segment: str) -> bool:
    """Numbers, UUIDs, hex and base64-ish IDs, emails and dates: values, not names."""
    if segment.isdigit():
        return True
    size = len(segment)
    if size == 36 and UUID.fullmatch(segment):
        return True
    if "@" in segment or "%40" in segment:
        return EMAIL.fullmatch(segment.replace("%40", "@")) is not None
    if segment[0].isdigit() and size >= 10 and DATE.match(segment):
        return True
    if size >= 8 and _HEX_ID.fullmatch(segment) and not segment.isalpha():
        return True
    if size >= 16 and _TOKEN_ID.fullmatch(segment):
        has_digit = any(c.isdigit() for c in segment)
        is_slug = segment.islower() and ("-" in segment or "_" in segment)
        return has_digit and not segment.isdigit() and not is_slug
    return False


@lru_cache(maxsize=1024)
def _parameter_name(collection: str) -> str:
    word = re.sub(r"[^A-Za-z0-9_]", "_", collection).strip("_").lower()
    if not word or word[0].isdigit():
        return "id"
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return f"{word}_id"
