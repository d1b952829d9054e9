"""SQL injection: does a user input, found in a query, change the query's token structure?"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from tracesec.protect.occurrences import blank, blank_all_but, find_occurrences, neutralise
from tracesec.protect.sql_tokenizer import UNTERMINATED, Dialect, dialect

_WORDS_ONLY = re.compile(r"\w+")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_LIST = re.compile(rf"\s*{_NUMBER}(?:\s*,\s*{_NUMBER})*\s*")
_QUOTED_LITERAL = re.compile(r"[eE]?['\"`\[$]")
_BLANK_ALL_BUT_ESCAPES = blank_all_but("'\"`\\")


def detect_sql_injection(query: str, user_input: str, dialect: str = "generic") -> bool:
    """True when ``user_input``, present in ``query``, changes its token structure in ``dialect``
    (generic, sqlite, postgresql or mysql): it closes or opens a literal or comment, adds operators or
    keywords, or spans several tokens. Inputs kept inside a literal, bound parameters, and inputs made only
    of words or numbers are never flagged."""
    tokenizer = _tokenizer(dialect)
    if len(user_input) < 2:
        return False
    starts = find_occurrences(query, user_input)
    if not starts or _WORDS_ONLY.fullmatch(user_input) or _NUMBER_LIST.fullmatch(user_input):
        return False
    tokens = tokenizer.tokenize(query)
    length = len(user_input)
    if _same_structure(tokenizer, tokens, neutralise(query, starts, length, blank), starts, length):
        return False
    # Inside a closed literal the input's quotes or backslashes may pair with the app's own escaping
    # ('''a''' holds the input 'a'): keep those characters, blank the rest, and compare again.
    if not _inside_closed_literals(tokenizer, tokens, starts, length):
        return True
    kept = neutralise(query, starts, length, _BLANK_ALL_BUT_ESCAPES)
    return not _same_structure(tokenizer, tokens, kept, starts, length)


def _tokenizer(name: str) -> Dialect:
    """Validated before any early exit, so a wrong dialect fails loudly on the first call."""
    return dialect(name)


def _same_structure(
    tokenizer: Dialect, tokens: list[str], other_query: str, starts: list[int], length: int
) -> bool:
    """Same token boundaries and kinds, and every occurrence of the input within one token."""
    other = tokenizer.tokenize(other_query)
    if len(other) != len(tokens):
        return False
    for mine, theirs in zip(tokens, other, strict=True):
        if mine != theirs and (len(mine) != len(theirs) or tokenizer.kind(mine) != tokenizer.kind(theirs)):
            return False
    ends = list(accumulate(map(len, tokens)))
    return all(bisect_right(ends, start) == bisect_right(ends, start + length - 1) for start in starts)


def _inside_closed_literals(tokenizer: Dialect, tokens: list[str], starts: list[int], length: int) -> bool:
    """Every occurrence lies strictly between the delimiters of one quoted literal, and nothing in the
    query is left unterminated (an input that swallows a closing quote leaves the tail unterminated)."""
    ends = list(accumulate(map(len, tokens)))
    for start in starts:
        index = bisect_right(ends, start)
        text = tokens[index].lstrip()
        if (
            not _QUOTED_LITERAL.match(text)
            or not ends[index] - len(text) < start < start + length < ends[index]
        ):
            return False
    return all(tokenizer.kind(token) != UNTERMINATED for token in tokens)
