"""A small SQL tokenizer per dialect: one compiled regex drives the whole scan.

Literal patterns are written as unrolled loops (run of plain characters, then one escape, then a run ...)
so that the engine never backtracks through ways of splitting a run: linear time even on hostile input.

It knows exactly what decides where a literal, identifier or comment starts and ends in each dialect, which
is all the injection check needs; it does not parse grammar. Every token carries its leading whitespace, so
the concatenation of the tokens is the query and a token's offset is the sum of the lengths before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

DIALECTS = ("generic", "sqlite", "postgresql", "mysql")

VALUE = "value"
COMMENT = "comment"
UNTERMINATED = "unterminated"
PLACEHOLDER = "placeholder"

_WORD = r"[^\W\d][\w$]*(?:\.[^\W\d][\w$]*)*"
_NUMBER = r"0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PLACEHOLDER = r"\?\d*|%\(\w+\)s|%s|\$\d+|(?<!:):[^\W\d]\w*|@@?[\w$.]+"
_STANDARD_STRING = r"'[^']*(?:''[^']*)*'"
_BACKSLASH_STRING = r"'[^'\\]*(?:(?:\\[\s\S]|'')[^'\\]*)*'"
_DOUBLE_QUOTED = r"\"[^\"]*(?:\"\"[^\"]*)*\""
_BACKSLASH_DOUBLE_QUOTED = r"\"[^\"\\]*(?:(?:\\[\s\S]|\"\")[^\"\\]*)*\""
_BACKTICK = r"`[^`]*(?:``[^`]*)*`"
_BRACKET = r"\[[^\]]*\]"
_ESCAPE_STRING = r"[eE]" + _BACKSLASH_STRING
_DOLLAR_QUOTED = r"\$(?P<tag>(?:[^\W\d]\w*)?)\$[\s\S]*?\$(?P=tag)\$"
_LINE_COMMENT = r"--[^\n]*"
_MYSQL_LINE_COMMENT = r"--(?=\s|\Z)[^\n]*|#[^\n]*"
_BLOCK_COMMENT = r"/\*[\s\S]*?\*/"
_MYSQL_EXECUTABLE_COMMENT = r"/\*!\d*|\*/"
_UNTERMINATED = r"['\"]|/\*"
_UNTERMINATED_EXTRA = {
    "generic": "|`",
    "sqlite": r"|`|\[",
    "postgresql": r"|[eE]'|\$(?:[^\W\d]\w*)?\$",
    "mysql": "|`",
}
_OPERATOR = r"::|[\s\S]"
_NESTED_COMMENT_DEPTH = 4


def _nested_block_comment(depth: int) -> str:
    """PostgreSQL comments nest; a regex cannot count, so nesting is unrolled to a fixed depth."""
    pattern = r"/\*[^/*]*(?:(?:/(?!\*)|\*(?!/))[^/*]*)*\*/"
    for _ in range(depth - 1):
        pattern = r"/\*[^/*]*(?:(?:/(?!\*)|\*(?!/)|" + pattern + r")[^/*]*)*\*/"
    return pattern


@dataclass(frozen=True)
class Dialect:
    """The compiled scanner of one dialect, and a classifier built from the same patterns."""

    name: str
    scanner: re.Pattern[str]
    classifier: re.Pattern[str]

    def tokenize(self, query: str) -> list[str]:
        """Tokens of ``query``, each with its leading whitespace; they concatenate back to ``query``."""
        found = self.scanner.findall(query)
        if self.scanner.groups > 1:
            return [match[0] for match in found]
        return found

    def kind(self, token: str) -> str:
        """The role a token plays: VALUE (word, number, string or quoted name: interchangeable), COMMENT,
        UNTERMINATED, PLACEHOLDER, or for anything else the operator text itself."""
        text = token.lstrip()
        match = self.classifier.fullmatch(text)
        role = match.lastgroup.rstrip("0123456789") if match and match.lastgroup else _OPERATOR_GROUP
        return text if role == _OPERATOR_GROUP else role


_OPERATOR_GROUP = "operator"


def _build(name: str) -> Dialect:
    literals = {
        "generic": [_STANDARD_STRING, _DOUBLE_QUOTED, _BACKTICK],
        "sqlite": [_STANDARD_STRING, _DOUBLE_QUOTED, _BACKTICK, _BRACKET],
        "postgresql": [_ESCAPE_STRING, _DOLLAR_QUOTED, _STANDARD_STRING, _DOUBLE_QUOTED],
        "mysql": [_BACKSLASH_STRING, _BACKSLASH_DOUBLE_QUOTED, _BACKTICK],
    }[name]
    fences: list[str] = []
    if name == "mysql":
        comments = [_MYSQL_LINE_COMMENT, _BLOCK_COMMENT]
        # MySQL runs the body of /*! ... */, so only its fences are tokens and the body is scanned as code.
        fences = [_MYSQL_EXECUTABLE_COMMENT]
    elif name == "postgresql":
        comments = [_LINE_COMMENT, _nested_block_comment(_NESTED_COMMENT_DEPTH)]
    else:
        comments = [_LINE_COMMENT, _BLOCK_COMMENT]
    # Order matters: at each position the first alternative that matches wins. Group names carry an index
    # because a regex cannot reuse a name; ``kind`` strips it.
    groups = [
        (VALUE + "0", literals),
        (_OPERATOR_GROUP + "0", fences),
        (COMMENT, comments),
        (UNTERMINATED, [f"(?:{_UNTERMINATED}{_UNTERMINATED_EXTRA[name]})[\\s\\S]*"]),
        (VALUE + "1", [_WORD, _NUMBER]),
        (PLACEHOLDER, [_PLACEHOLDER]),
        (_OPERATOR_GROUP, [_OPERATOR]),
    ]
    groups = [(group, patterns) for group, patterns in groups if patterns]
    scanner = re.compile(r"(\s*(?:" + "|".join(p for _, patterns in groups for p in patterns) + "))")
    classifier = re.compile(
        "|".join(f"(?P<{group}>" + "|".join(patterns) + ")" for group, patterns in groups)
    )
    return Dialect(name=name, scanner=scanner, classifier=classifier)


@cache
def dialect(name: str) -> Dialect:
    """The tokenizer for ``name``; ValueError names the accepted dialects."""
    if name not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {name!r}: expected one of {', '.join(DIALECTS)}")
    return _build(name)
