"""Path traversal: does a user input, found in a file path, lead out of the folder the app meant?

Paths are read the way the operating system reads them: ``/`` separates on POSIX, where a backslash is an
ordinary file-name character; ``\\`` and ``/`` both separate on Windows. An input is looked for as written
and in normal form (``//`` collapsed, ``.`` segments and trailing separators gone: what ``pathlib`` and the
kernel make of it), so an app that rewrote the path before opening it is still judged."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tracesec.protect.decoding import decoded_forms

_WORTH_A_LOOK = re.compile(r"[./\\~%:\x00\uff0e\uff0f\uff3c\u2215]")


@dataclass(frozen=True)
class PathReading:
    """How one operating system splits a path and tells an absolute one."""

    separators: re.Pattern[str]
    absolute: re.Pattern[str]
    drive: re.Pattern[str]
    """A drive prefix that joining an absolute name keeps (``C:`` + ``/etc``); never matches on POSIX."""
    backslash_separates: bool

    def normal(self, path: str) -> str:
        """``path`` with separator runs collapsed to ``/`` and ``.`` segments and trailing separators
        dropped; ``..`` kept (resolving it would hide the climb). Leading separators stay one ``/``."""
        segments = [segment for segment in self.separators.split(path) if segment not in ("", ".")]
        lead = "/" if self.separators.match(path) else ""
        return lead + "/".join(segments)

    def needs_normalising(self, path: str) -> bool:
        """Whether normal form would change ``path`` (plain substring tests: this runs on every path sink
        call of a request with path-like inputs)."""
        return (
            "//" in path
            or "/./" in path
            or path.endswith(("/", "/."))
            or path.startswith("./")
            or (self.backslash_separates and "\\" in path)
        )

    def starts_with(self, path: str, absolute: str) -> bool:
        """Whether ``path`` begins with the absolute name ``absolute``, after its drive if it has one."""
        return path.startswith(absolute) or self.drive.sub("", path, count=1).startswith(absolute)

    def climbs(self, relative: str) -> bool:
        """Whether ``..`` segments climb above the starting point (``a/../b`` does not, ``a/../..`` does)."""
        if ".." not in relative:
            return False
        depth = 0
        for segment in self.separators.split(relative):
            if segment == "..":
                depth -= 1
                if depth < 0:
                    return True
            elif segment not in ("", "."):
                depth += 1
        return False


POSIX = PathReading(
    separators=re.compile(r"/+"),
    absolute=re.compile(r"[/~]"),
    drive=re.compile(r"(?!)"),
    backslash_separates=False,
)
WINDOWS = PathReading(
    separators=re.compile(r"[/\\]+"),
    absolute=re.compile(r"[/\\~]|[A-Za-z]:(?:[/\\]|$)"),
    drive=re.compile(r"^[A-Za-z]:"),
    backslash_separates=True,
)
ON_WINDOWS = "\\" in (os.sep, os.altsep)
"""Whether the operating system tracesec runs on separates with a backslash (``os.sep`` / ``os.altsep``)."""
OS_READING = WINDOWS if ON_WINDOWS else POSIX


def detect_path_traversal(
    path: str, user_input: str, *, check_absolute: bool = True, windows: bool = ON_WINDOWS
) -> bool:
    """True when ``user_input`` (as received, or a decoded form of it the app produced; as written or in
    normal form) appears in ``path`` and climbs above its own starting point with ``..`` segments, carries a
    NUL byte, or, with ``check_absolute``, is an absolute path (``/etc``, ``~``; on Windows also ``C:\\``,
    ``\\\\server``) that ``path`` begins with, so the app's folder was discarded. ``windows`` asks for the
    Windows reading (backslashes separate) whatever the operating system."""
    if not user_input or not _WORTH_A_LOOK.search(user_input):
        return False
    reading = WINDOWS if windows else POSIX
    normal_path = reading.normal(path) if reading.needs_normalising(path) else path
    for received in decoded_forms(user_input):
        normal = reading.normal(received)
        for form, found_in in ((received, path), (normal, normal_path)):
            found = form in found_in if form is received else _holds_segments(found_in, form)
            if not found:
                continue
            if "\x00" in form or reading.climbs(form):
                return True
            if check_absolute and reading.absolute.match(form) and reading.starts_with(found_in, form):
                return True
    return False


def _holds_segments(normal_path: str, normal_form: str) -> bool:
    """Whether the normal form sits in the normal path as whole segments: ``/..`` is in ``/a/../b``, not
    in ``/a/..%2f`` (the climb would be made of part of a file name)."""
    if not normal_form:
        return False
    position = normal_path.find(normal_form)
    while position >= 0:
        end = position + len(normal_form)
        starts = position == 0 or normal_form[0] == "/" or normal_path[position - 1] == "/"
        if starts and (end == len(normal_path) or normal_path[end] == "/"):
            return True
        position = normal_path.find(normal_form, position + 1)
    return False


def path_needles(user_input: str) -> list[str]:
    """What the runtime looks for in a sink's path (as written and in normal form) before asking the
    detector: every decoded form of ``user_input`` and its normal form under the operating system's
    reading."""
    forms = decoded_forms(user_input)
    return [form for form in dict.fromkeys(forms + [OS_READING.normal(form) for form in forms]) if form]
