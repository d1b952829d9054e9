"""Secrets never leave the process: names and value shapes that mark a secret, and the functions that
replace them before anything is written to a transport."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote_plus

REDACTED = "[REDACTED]"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-xsrf-token",
        "x-amz-security-token",
    }
)

_SENSITIVE_NAME = re.compile(
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[-_.]?key|apikey|access[-_.]?key|private[-_.]?key"
    r"|authorization|^auth$|credential|session|cookie|signature|csrf|xsrf"
    r"|card[-_.]?(?:number|num|no)|^cc[-_.]?(?:num|number)?$|cvv|cvc|^ssn$|^iban$|^otp$|^pin$",
    re.IGNORECASE,
)

_SECRET_VALUES = re.compile(
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"  # credentials in text
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # payment API keys
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|xox[abpr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)
_CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_JSON_SECRET_PAIR = re.compile(r'("([^"\\]{1,64})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')


def is_sensitive_name(name: str, extra: Iterable[str] = ()) -> bool:
    return _matches_sensitive_name(name) or name.lower() in extra


@functools.lru_cache(maxsize=4096)
def _matches_sensitive_name(name: str) -> bool:
    """Field and header names repeat from request to request: the regex runs once per distinct name."""
    return bool(_SENSITIVE_NAME.search(name))


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return REDACTED if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


_SHORT_TEXT = 256


def redact_text(text: str) -> str:
    """Replace secret-shaped values (tokens, keys, Luhn-valid card numbers) wherever they appear.
    Short values (header values, JSON strings) repeat a lot and are remembered, within a bounded cache."""
    if len(text) <= _SHORT_TEXT:
        return _redact_short_text(text)
    return _redact(text)


def _redact(text: str) -> str:
    return _CARD_CANDIDATE.sub(_mask_card, _SECRET_VALUES.sub(REDACTED, text))


_redact_short_text = functools.lru_cache(maxsize=4096)(_redact)


def redact_header(name: str, value: str, extra: frozenset[str] = frozenset()) -> str:
    if name in SENSITIVE_HEADERS or is_sensitive_name(name, extra):
        return REDACTED
    return redact_text(value)


def redact_query(query: str, extra: frozenset[str] = frozenset()) -> str:
    """A query string with the values of sensitive parameters replaced, the rest kept as sent."""
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        if sep and is_sensitive_name(unquote_plus(name), extra):
            pairs.append(f"{name}={quote(REDACTED)}")
        else:
            pairs.append(redact_text(pair))
    return "&".join(pairs)


def redact_json(document: Any, extra: frozenset[str] = frozenset()) -> Any:
    """A copy of a parsed JSON document with sensitive keys' values and secret-shaped strings replaced.
    Iterative, so a 10,000-level document cannot exhaust the stack."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(document, root, 0)]
    while stack:
        node, parent, key = stack.pop()
        if isinstance(node, dict):
            copy: dict[str, Any] = dict.fromkeys(node)  # keeps the document's key order
            parent[key] = copy
            for name, value in node.items():
                if is_sensitive_name(str(name), extra) and not isinstance(value, (dict, list)):
                    copy[name] = REDACTED
                else:
                    stack.append((value, copy, name))
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            parent[key] = items
            stack.extend((value, items, index) for index, value in enumerate(node))
        elif isinstance(node, str):
            parent[key] = redact_text(node)
        else:
            parent[key] = node
    return root[0]


def redact_json_text(text: str, extra: frozenset[str] = frozenset()) -> str:
    """For JSON that cannot be parsed (truncated at the cap, malformed): redact "key": value pairs whose
    key is sensitive, then secret-shaped values."""

    def replace(match: re.Match[str]) -> str:
        if is_sensitive_name(match.group(2), extra):
            return f'{match.group(1)}"{REDACTED}"'
        return match.group()

    return redact_text(_JSON_SECRET_PAIR.sub(replace, text))


_JSON_KEY = re.compile(r'"([^"\\]*)"\s*:')


def _needs_redaction(json_text: str, extra: frozenset[str]) -> bool:
    """Whether redaction could change this JSON text: a sensitive key, a secret-shaped value, a long digit
    run, or an escape that could hide either. Most bodies have none of these and are shipped as they are,
    without being parsed and written again."""
    if "\\" in json_text or _SECRET_VALUES.search(json_text) or _CARD_CANDIDATE.search(json_text):
        return True
    return any(is_sensitive_name(match.group(1), extra) for match in _JSON_KEY.finditer(json_text))


def redact_json_body(text: str, extra: frozenset[str] = frozenset()) -> str:
    if not _needs_redaction(text, extra):
        return text
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return redact_json_text(text, extra)
    try:
        return json.dumps(redact_json(document, extra), ensure_ascii=False)
    except RecursionError:
        return redact_json_text(text, extra)
