"""Path traversal detector: climbing, absolute paths, decoded forms and NUL bytes."""

from __future__ import annotations

import ntpath
import os.path
from pathlib import PurePosixPath

import pytest

from tracesec.protect import detect_path_traversal

BASE = "/srv/app/files"


@pytest.mark.parametrize(
    "user_input",
    [
        "../../etc/passwd",
        "..",
        "a/../../etc/shadow",
        "/etc/passwd",
        "report.pdf\x00.png",
        "./../secret",
    ],
)
def test_escapes_through_join_are_flagged(user_input: str) -> None:
    assert detect_path_traversal(os.path.join(BASE, user_input), user_input)


@pytest.mark.parametrize(
    ("received", "decoded_by_app"),
    [
        ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../etc/passwd"),
        ("%252e%252e%252fetc", "../etc"),  # double-encoded, app decoded twice
        ("%c0%ae%c0%ae%c0%afetc", "../etc"),  # overlong UTF-8 as a lenient decoder reads it
        ("%u002e%u002e/etc", "../etc"),  # IIS %u
        ("\uff0e\uff0e\uff0fetc", "../etc"),  # full-width, folded by NFKC
        ("..%00/x", "..\x00/x"),
    ],
)
def test_decoded_forms_that_reach_the_path_are_flagged(received: str, decoded_by_app: str) -> None:
    assert detect_path_traversal(os.path.join(BASE, decoded_by_app), received)


@pytest.mark.parametrize(
    ("path", "user_input"),
    [
        (os.path.join(BASE, "a/../b.txt"), "a/../b.txt"),  # climbs back only over its own segment
        (os.path.join(BASE, "reports/2024/q1.pdf"), "reports/2024/q1.pdf"),
        (os.path.join(BASE, "%2e%2e%2fetc"), "%2e%2e%2fetc"),  # not decoded: a literal, odd file name
        (BASE + "/" + "/etc/passwd", "/etc/passwd"),  # concatenated: stays under the base
        (os.path.join(BASE, "...."), "...."),
        (os.path.join(BASE, "photo.jpg"), "photo.jpg"),
        (os.path.join(BASE, "b.txt"), "a/../b.txt"),  # the app resolved it: input no longer in the path
        ("/etc/passwd", "passwd"),
        (os.path.join(BASE, "x"), ""),
    ],
)
def test_paths_kept_in_their_folder_are_not_flagged(path: str, user_input: str) -> None:
    assert not detect_path_traversal(path, user_input)


@pytest.mark.parametrize(
    ("user_input", "windows"),
    [
        ("C:\\Windows\\win.ini", True),
        ("\\\\server\\share\\x", True),
        ("~/.ssh/id_rsa", False),
        ("/etc", False),
    ],
)
def test_absolute_inputs_that_start_the_path(user_input: str, windows: bool) -> None:
    assert detect_path_traversal(user_input, user_input, windows=windows)
    assert not detect_path_traversal(user_input, user_input, check_absolute=False, windows=windows)


@pytest.mark.parametrize(
    "user_input",
    ["..\\..\\windows\\win.ini", "\\..\\..\\etc\\issue", "..\\..\\..\\/etc/passwd", "C:\\Windows\\win.ini"],
)
def test_backslashes_separate_only_on_the_windows_reading(user_input: str) -> None:
    """On POSIX a backslash is an ordinary file-name character: the name stays in the folder."""
    assert not detect_path_traversal(os.path.join(BASE, user_input), user_input, windows=False)
    assert detect_path_traversal(ntpath.join("C:\\srv\\files", user_input), user_input, windows=True)


def test_the_default_reading_is_the_operating_systems() -> None:
    name = "..\\..\\windows\\win.ini"
    assert detect_path_traversal(os.path.join(BASE, name), name) is ("\\" in (os.sep, os.altsep))


@pytest.mark.parametrize(
    ("user_input", "path"),
    [
        ("..//..//etc/passwd", str(PurePosixPath(BASE) / "..//..//etc/passwd")),
        ("./.././../etc/passwd", str(PurePosixPath(BASE) / "./.././../etc/passwd")),
        ("../../etc/", str(PurePosixPath(BASE) / "../../etc/")),
        ("..///..///etc///passwd", str(PurePosixPath(BASE) / "..///..///etc///passwd")),
        ("/etc/passwd/", str(PurePosixPath(BASE) / "/etc/passwd/")),
        ("%2e%2e%2f%2e%2e%2f/etc/passwd", str(PurePosixPath(BASE) / "../..//etc/passwd")),
        ("../../etc/passwd", BASE + "//..//..//etc/passwd"),  # the input normal, the path not
    ],
)
def test_inputs_the_app_normalised_are_found_in_normal_form(user_input: str, path: str) -> None:
    assert user_input not in path
    assert detect_path_traversal(path, user_input, windows=False)


@pytest.mark.parametrize(
    ("user_input", "path"),
    [
        ("a/./b//c/", str(PurePosixPath(BASE) / "a/./b//c/")),
        ("a//../b", str(PurePosixPath(BASE) / "a//../b")),
        ("./", str(PurePosixPath(BASE) / "./")),
    ],
)
def test_normal_forms_that_stay_in_the_folder(user_input: str, path: str) -> None:
    assert not detect_path_traversal(path, user_input, windows=False)


def test_long_benign_input() -> None:
    user_input = "/".join(["folder"] * 2000) + "/file.txt"
    assert not detect_path_traversal(BASE + "/" + user_input, user_input)
    climbing = user_input + "/.." * 2002
    assert detect_path_traversal(BASE + "/" + climbing, climbing)
