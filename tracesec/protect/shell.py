"""Shell injection: does a user input, found in a command line, change what the shell will run?"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from tracesec.protect.occurrences import blank, blank_all_but, find_occurrences, neutralise
from tracesec.protect.shell_tokenizer import UNTERMINATED, WORD, expansions_in_double_quotes, kind, tokenize

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish", "csh", "tcsh"})
_SAFE = re.compile(r"[A-Za-z0-9._/=:,@+%-]+")
_BLANK_ALL_BUT_QUOTES = blank_all_but("'\"\\")
_OPTIONS_WITH_VALUE = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})


def detect_shell_injection(command: str, user_input: str) -> bool:
    """True when ``user_input``, present in ``command``, changes its shell structure: splits a word, adds an
    operator, redirection, expansion, glob or comment, or leaves a quote open. Inputs made only of
    ``[A-Za-z0-9._/=:,@+%-]`` are never flagged."""
    starts = find_occurrences(command, user_input) if user_input else []
    if not starts or _SAFE.fullmatch(user_input):
        return False
    tokens = tokenize(command)
    neutral = neutralise(command, starts, len(user_input), blank)
    neutral_tokens = tokenize(neutral)
    if _same_tokens(tokens, neutral_tokens):
        return False
    original = _structure(tokens)
    if original == _structure(neutral_tokens):
        return False
    if any(role == UNTERMINATED for role, _ in original):
        return True
    # The input's quotes may pair with the app's own quoting (shlex.quote turns ' into '"'"'): keep the
    # quote characters, blank the rest, and compare again.
    kept = neutralise(command, starts, len(user_input), _BLANK_ALL_BUT_QUOTES)
    return kept == neutral or original != _structure(tokenize(kept))


def _same_tokens(tokens: list[str], other: list[str]) -> bool:
    """Quick path: the same token boundaries, and the tokens that differ have the same kind."""
    if len(tokens) != len(other):
        return False
    for mine, theirs in zip(tokens, other, strict=True):
        if mine != theirs and (
            len(mine) != len(theirs)
            or kind(mine) != kind(theirs)
            or expansions_in_double_quotes(mine) != expansions_in_double_quotes(theirs)
        ):
            return False
    return True


def _structure(tokens: list[str]) -> list[tuple[str, int]]:
    """The command as the shell sees it: one entry per word (adjacent quoted and plain parts make one word),
    per operator, redirection, expansion or glob, with the offsets of expansions inside double quotes."""
    structure: list[tuple[str, int]] = []
    previous = ""
    offset = 0
    for token in tokens:
        role = kind(token)
        if role != WORD or previous != WORD or token[0] in " \t" or token.startswith("\\\n"):
            structure.append((role, 0))
        if '"' in token and ("$" in token or "`" in token):
            structure.extend(("$", offset + at) for at in expansions_in_double_quotes(token))
            role = "$"
        previous = role
        offset += len(token)
    return structure


def shell_command_from_argv(argv: Sequence[str]) -> str | None:
    """The command string of ``[shell, ..., "-c", command, ...]`` (e.g. ``["sh", "-c", cmd]``,
    ``["/bin/bash", "-lc", cmd]``), so a check on ``subprocess.run(argv)`` can see what the shell will parse;
    None when the program is not a shell or there is no ``-c``."""
    if not argv or os.path.basename(str(argv[0])) not in SHELLS:
        return None
    has_command_flag = False
    arguments = iter(argv[1:])
    for argument in arguments:
        if argument == "--":
            break
        if argument in _OPTIONS_WITH_VALUE:
            next(arguments, None)
        elif argument.startswith("--"):
            continue
        elif argument[:1] in ("-", "+") and len(argument) > 1:
            has_command_flag = has_command_flag or (argument[0] == "-" and "c" in argument[1:])
        else:
            return argument if has_command_flag else None
    return next(arguments, None) if has_command_flag else None
