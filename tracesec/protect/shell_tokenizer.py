"""A POSIX sh tokenizer, enough to tell words from the things that make a shell do more than run one
command: operators, redirections, expansions, globs (and bash's brace expansion, which /bin/sh is on many
systems), comments and quotes that do not close.

One compiled regex drives the scan. Every token keeps its leading blanks, so tokens concatenate back to the
command and a token's offset is the sum of the lengths before it.
"""

from __future__ import annotations

import re

WORD = "word"
UNTERMINATED = "unterminated"

_BLANKS = r"[ \t]*(?:\\\n[ \t]*)*"
# Unrolled loops (a run of plain characters, one escape, a run ...): linear time, no backtracking.
_PLAIN = r"[^\s;&|()<>'\"\\$`*?\[{]"
_ESCAPED = r"(?:\{(?![^{}]*(?:,|\.\.)[^{}]*\})|\\[\s\S]|\$(?![\w@*#?!$({-]))"
_PATTERNS = {
    # Plain text first, as it is most tokens; it may not start what a comment, a tilde or a redirection
    # (2>file) starts.
    "text": rf"(?![#~]|\d+[<>])(?:{_PLAIN}|{_ESCAPED}){_PLAIN}*(?:{_ESCAPED}{_PLAIN}*)*",
    "comment": r"(?:(?<=[\s;&|()<>])|^)#[^\n]*",
    "operator": r"&&|\|\||;;|;&|\|&|[;&|()\n]",
    "redirection": r"\d*(?:<<<|<<-|<<|>>|>&|<&|<>|>\||&>>|&>|[<>])",
    "single_quoted": r"\$'[^'\\]*(?:\\[\s\S][^'\\]*)*'|'[^']*'",
    "double_quoted": r"\"[^\"\\]*(?:\\[\s\S][^\"\\]*)*\"",
    "unterminated": r"['\"][\s\S]*",
    "expansion": r"\$\(\(?|\$\{[^}]*\}?|\$[A-Za-z_]\w*|\$[0-9@*#?!$-]|`",
    "tilde": r"(?:(?<=[\s;&|()<>=:])|^)~",
    "glob": r"[*?\[]|\{(?=[^{}]*(?:,|\.\.)[^{}]*\})",
    "other": r"[\s\S]",
}
_SCANNER = re.compile(_BLANKS + "(?:" + "|".join(_PATTERNS.values()) + ")")
_CLASSIFIER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS.items()))
_EXPANSION_IN_DOUBLE_QUOTES = re.compile(r"\\[\s\S]|(\$\(|\$\{|\$[A-Za-z_0-9@*#?!$-]|`)")
_SPECIAL_STARTS = frozenset(";&|()<>'\"\\$`*?[{#~\n")
_QUOTED_WORD_PARTS = frozenset({"text", "single_quoted", "double_quoted"})


def tokenize(command: str) -> list[str]:
    """Tokens of ``command``, each with its leading blanks."""
    return _SCANNER.findall(command)


def kind(token: str) -> str:
    """WORD for plain text and closed quotes (they only build up a word), UNTERMINATED for an open quote,
    otherwise the token itself (an operator, a redirection, an expansion, a glob)."""
    text = token.lstrip(" \t\\\n")
    if text and text[0] not in _SPECIAL_STARTS and text[-1] not in "<>&|":
        return WORD  # plain text: by far the most common token, so skip the classifier
    if text == "{":  # a brace expansion's opening (or a group command): the scanner saw what followed
        return text
    match = _CLASSIFIER.match(text)
    name = match.lastgroup if match else None
    if name in _QUOTED_WORD_PARTS:
        return WORD
    if name == "unterminated":
        return UNTERMINATED
    return text


def expansions_in_double_quotes(token: str) -> list[int]:
    """Offsets of the expansions ($(...), ${...}, $VAR, backticks) inside a double-quoted token, which the
    shell still runs there; empty for any other token."""
    if not token.lstrip(" \t\\\n").startswith('"') or ("$" not in token and "`" not in token):
        return []
    return [match.start() for match in _EXPANSION_IN_DOUBLE_QUOTES.finditer(token) if match.group(1)]
