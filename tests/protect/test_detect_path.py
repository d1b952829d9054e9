"""Path traversal detector: climbing, absolute paths, decoded forms and NUL bytes."""

from __future__ import annotations

import os.path

import pytest

from tracesec.protect import detect_path_traversal

BASE = "/srv/app/files"


@pytest.mark.parametrize(
    "user_input",
    [
        "../../etc/passwd",
        "..",
        "a/../../etc/shadow",
        "..\\..\\windows\\win.ini",
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
    "user_input", ["C:\\Windows\\win.ini", "\\\\server\\share\\x", "~/.ssh/id_rsa", "/etc"]
)
def test_absolute_inputs_that_start_the_path(user_input: str) -> None:
    assert detect_path_traversal(user_input, user_input)
    assert not detect_path_traversal(user_input, user_input, check_absolute=False)


def test_long_benign_input() -> None:
    user_input = "/".join(["folder"] * 2000) + "/file.txt"
    assert not detect_path_traversal(BASE + "/" + user_input, user_input)
    climbing = user_input + "/.." * 2002
    assert detect_path_traversal(BASE + "/" + climbing, climbing)
