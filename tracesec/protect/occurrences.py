"""Where a user input sits inside a sink argument, and the same argument with the input neutralised.

Both injection detectors (SQL and shell) compare an argument with a copy in which every occurrence of the
input is replaced character by character, so token positions stay aligned between the two.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def find_occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence of ``needle`` in ``text``, overlapping ones included (in
    ``'%'%'%'`` the input ``'%'`` the app put in the middle overlaps two others). Exact match: an input the
    app re-cased before splicing it in is not found (a case-folding search would double the common path)."""
    starts: list[int] = []
    find = text.find
    position = find(needle)
    while position >= 0:
        starts.append(position)
        position = find(needle, position + 1)
    return starts


def neutralise(text: str, starts: list[int], length: int, replace: Callable[[str], str]) -> str:
    """``text`` with the characters covered by the occurrences passed through ``replace``, a
    character-by-character map (so overlapping occurrences can be merged first)."""
    pieces: list[str] = []
    previous = 0
    index = 0
    while index < len(starts):
        begin = starts[index]
        end = begin + length
        index += 1
        while index < len(starts) and starts[index] < end:
            end = starts[index] + length
            index += 1
        pieces.append(text[previous:begin])
        pieces.append(replace(text[begin:end]))
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)


def blank(occurrence: str) -> str:
    """The harmless stand-in: a run of one letter, a single word in every language we scan."""
    return "a" * len(occurrence)


def blank_all_but(kept: str) -> Callable[[str], str]:
    """A ``replace`` that blanks everything except the characters in ``kept`` (quotes, backslashes), for
    telling an input's own quoting apart from the app's escaping of it."""
    others = re.compile("[^" + re.escape(kept) + "]")

    def replace(occurrence: str) -> str:
        return others.sub("a", occurrence)

    return replace
