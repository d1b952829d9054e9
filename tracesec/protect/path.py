"""Path traversal: does a user input, found in a file path, lead out of the folder the app meant?"""

from __future__ import annotations

import re

from tracesec.protect.decoding import decoded_forms

_WORTH_A_LOOK = re.compile(r"[./\\~%:\x00\uff0e\uff0f\uff3c\u2215]")
_SEPARATORS = re.compile(r"[/\\]")
_ABSOLUTE = re.compile(r"[/\\~]|[A-Za-z]:(?:[/\\]|$)")


def detect_path_traversal(path: str, user_input: str, *, check_absolute: bool = True) -> bool:
    """True when ``user_input`` (as received, or a decoded form of it the app produced) appears in ``path``
    and climbs above its own starting point with ``..`` segments (``/`` or ``\\``), carries a NUL byte, or,
    with ``check_absolute``, is an absolute path (``/etc``, ``C:\\``, ``\\\\server``, ``~``) that ``path``
    begins with, so the app's folder was discarded."""
    if not user_input or not _WORTH_A_LOOK.search(user_input):
        return False
    for form in decoded_forms(user_input):
        if form not in path:
            continue
        if "\x00" in form or _climbs(form):
            return True
        if check_absolute and _ABSOLUTE.match(form) and path.startswith(form):
            return True
    return False


def _climbs(relative: str) -> bool:
    """Whether ``..`` segments climb above the starting point (``a/../b`` does not, ``a/../..`` does)."""
    if ".." not in relative:
        return False
    depth = 0
    for segment in _SEPARATORS.split(relative):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in ("", "."):
            depth += 1
    return False
