"""Detection and false-positive rates of tracesec.protect over the shared public payload corpora.

Every payload goes into vulnerable constructions (and the detector should fire) and into safe twins (and it
must not). Ground truth comes from independent oracles, never from tracesec's own tokenizers:

- SQL: the sqlite3 engine itself. A payload changes the query when the statement fails to compile or its
  bytecode (EXPLAIN opcodes, constants folded together) differs from the same statement with a plain value.
- shell: bash itself, in restricted mode with a DEBUG trap that skips every command but an argv printer
  (extdebug), ``set -u`` and ``failglob``. A payload changes the command when bash runs anything else, errs,
  passes other than one argument, or passes an argument that is not the payload minus quote characters.
- path: ``posixpath.normpath`` (POSIX reading) and ``ntpath.normpath`` (Windows reading, with the detector
  asked for the Windows reading): the path leaves the base folder once normalised, or carries a NUL byte.
- SSRF: ``urllib.parse`` and ``urllib3`` read the host; ``getaddrinfo(AI_NUMERICHOST)`` (libc) turns it into
  an address and the stdlib ``ipaddress`` flags say whether it is internal; well-known names
  (localhost, metadata.google.internal ...) count as internal.

Then the same lists over a real server (benchmarks.corpus_server): every payload (about four minutes
here), or a deterministic sample with ``--sample``.

Run: ``python -m benchmarks.corpus [--sample]``. Prints the tables and rewrites the figures in
docs/detection.md.
"""

from __future__ import annotations

import contextlib
import ipaddress
import ntpath
import os
import posixpath
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import quote, unquote, urlsplit

import httpx
import urllib3.util

from tracesec.protect import (
    detect_path_traversal,
    detect_shell_injection,
    detect_sql_injection,
    detect_ssrf,
)

CORPORA = Path(os.environ.get("TRACESEC_CORPORA", "/work/shared/corpora"))
DOC = Path(__file__).resolve().parent.parent / "docs" / "detection.md"
BENIGN = ("benign-libinjection.txt", "benign-gotestwaf.txt")


@dataclass
class Tally:
    """One construction: how many payloads changed it (oracle), how many of those were flagged, and how
    many of those that did not change it were flagged anyway."""

    category: str
    construction: str
    changed: int = 0
    detected: int = 0
    unchanged: int = 0
    flagged_unchanged: int = 0
    refused: int = 0
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, payload: str, *, changed: bool, flagged: bool) -> None:
        if changed:
            self.changed += 1
            self.detected += flagged
            if not flagged:
                self.missed.append(payload)
        else:
            self.unchanged += 1
            self.flagged_unchanged += flagged
            if flagged:
                self.false_alarms.append(payload)

    @property
    def rate(self) -> str:
        return f"{100 * self.detected / self.changed:.2f}%" if self.changed else "n/a"


def read_payloads(*names: str) -> list[str]:
    lines: dict[str, None] = {}
    for name in names:
        for line in (CORPORA / name).read_text(encoding="utf-8", errors="replace").split("\n"):
            if line.strip():
                lines[line.rstrip("\r")] = None
    return list(lines)


# --- SQL ---------------------------------------------------------------------------------------------

# Each construction with the plain values that may fill its slot: a payload that compiles to the program of
# one of them changed nothing but a value.
SQL_CONTEXTS = {
    "string literal": ("SELECT id FROM t WHERE name = '{p}' AND active = 1", ("x",)),
    "numeric": ("SELECT id FROM t WHERE id = {p} AND active = 1", ("1", "'x'", "name")),
    "LIKE": ("SELECT id FROM t WHERE name LIKE '%{p}%' AND active = 1", ("x",)),
    "ORDER BY": ("SELECT id, name FROM t ORDER BY {p} LIMIT 10", ("name", "'x'", "1")),
}
SQL_DIALECTS = ("sqlite", "generic")
_CONSTANT_OPCODES = frozenset({"Integer", "Int64", "Real", "String8", "Null"})


class SqliteOracle:
    """Asks the sqlite3 engine whether a statement compiles to the same program as a reference one."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        for table in ("t", "users"):  # t: the constructions here; users: examples/vulnerable_app.py's
            self.db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, active INTEGER)")

    def program(self, statement: str) -> list[str] | None:
        try:
            rows = self.db.execute("EXPLAIN " + statement).fetchall()
        except (sqlite3.Error, sqlite3.Warning, OverflowError):
            return None
        return ["const" if row[1] in _CONSTANT_OPCODES else row[1] for row in rows]

    def changes(self, template: str, references: tuple[str, ...], payload: str) -> bool | None:
        """None when the driver refuses the statement outright (a NUL byte): no truth to compare with."""
        if "\x00" in payload:
            return None
        program = self.program(template.replace("{p}", payload))
        return program is None or all(program != self.program(template.replace("{p}", r)) for r in references)


def sql_vulnerable(payloads: Iterable[str], oracle: SqliteOracle) -> list[Tally]:
    tallies = []
    for context, (template, references) in SQL_CONTEXTS.items():
        verdicts = [(p, oracle.changes(template, references, p)) for p in payloads]
        for dialect in SQL_DIALECTS:
            tally = Tally("SQL", f"{context} ({dialect})")
            for payload, changed in verdicts:
                if changed is None:
                    tally.refused += 1
                    continue
                query = template.replace("{p}", payload)
                tally.add(payload, changed=changed, flagged=detect_sql_injection(query, payload, dialect))
            tallies.append(tally)
    return tallies


def sql_safe_twins(payloads: Iterable[str]) -> list[tuple[str, int, int]]:
    """Parameterised queries (the payload is bound, the query holds '?') and literals escaped by doubling
    quotes, the way a correct driver or ORM quotes a value."""
    parameterised = escaped = flagged_parameterised = flagged_escaped = 0
    for payload in payloads:
        for template, _ in SQL_CONTEXTS.values():
            parameterised += 1
            flagged_parameterised += detect_sql_injection(template.replace("{p}", "?"), payload, "sqlite")
        for context in ("string literal", "LIKE"):
            query = SQL_CONTEXTS[context][0].replace("{p}", payload.replace("'", "''"))
            for dialect in SQL_DIALECTS:
                escaped += 1
                flagged_escaped += detect_sql_injection(query, payload, dialect)
    return [
        ("SQL parameterised (4 contexts)", parameterised, flagged_parameterised),
        ("SQL escaped literal '' (string, LIKE; sqlite, generic)", escaped, flagged_escaped),
    ]


# --- shell -------------------------------------------------------------------------------------------

BASH = shutil.which("bash") or "/bin/bash"
SHELL_CONTEXTS = {"ls {p}": "ls {p}", 'echo "{p}"': 'echo "{p}"'}
_BASH_PRELUDE = (
    "shopt -s extdebug failglob; set -u -T\n"
    "trap '[[ -z ${!:-} ]] || printf \"BACKGROUND\\0\"' EXIT\n"
    "trap '[[ $BASH_COMMAND == __argv* || $BASH_COMMAND == *__status* || ${FUNCNAME[0]:-} == __argv ]] || "
    '{ printf "RUN:%s\\0" "$BASH_COMMAND"; false; }\' DEBUG\n'
    "__argv() { printf 'N:%d\\0' $#; printf 'ARG:%s\\0' \"$@\"; [[ $__status == 0 ]]; }\n"
)
_QUOTING = str.maketrans("", "", "'\"\\")


def bash_changes(construction: str, payload: str, workdir: str) -> bool:
    """Whether bash, given the construction with the payload, does anything but pass the payload (minus
    quoting) as one argument. Run twice, the printer succeeding then failing, so both sides of && and ||
    are seen."""
    return any(_bash_run_changes(construction, payload, workdir, status) for status in ("0", "1"))


def _bash_run_changes(construction: str, payload: str, workdir: str, status: str) -> bool:
    command = construction.replace("ls ", "__argv ").replace("echo ", "__argv ").replace("{p}", payload)
    try:
        result = subprocess.run(
            [BASH, "-r", "-c", f"__status={status}\n" + _BASH_PRELUDE + command],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            env={"PATH": "/nonexistent", "HOME": "/home/nobody"},
            check=False,
        )
    except (subprocess.TimeoutExpired, ValueError):  # ValueError: a NUL byte, which no argv can carry
        return True
    entries = [e for e in result.stdout.decode("utf-8", "replace").split("\0") if e]
    if result.stderr or entries[:1] != ["N:1"] or len(entries) != 2 or not entries[1].startswith("ARG:"):
        return True
    argument = entries[1][4:]
    return not (
        _is_subsequence(argument, payload) and argument.translate(_QUOTING) == payload.translate(_QUOTING)
    )


def _is_subsequence(needle: str, haystack: str) -> bool:
    """True when ``needle`` is ``haystack`` with some characters removed."""
    remaining = iter(haystack)
    return all(char in remaining for char in needle)


def shell_vulnerable(payloads: list[str]) -> list[Tally]:
    tallies = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool,
    ):
        Path(workdir, "glob-hit").write_text("")
        for name, construction in SHELL_CONTEXTS.items():
            verdicts = pool.map(lambda p, c=construction: bash_changes(c, p, workdir), payloads)
            tally = Tally("shell", name)
            for payload, changed in zip(payloads, verdicts, strict=True):
                command = construction.replace("{p}", payload)
                tally.add(payload, changed=changed, flagged=detect_shell_injection(command, payload))
            tallies.append(tally)
    return tallies


def shell_safe_twins(payloads: Iterable[str]) -> list[tuple[str, int, int]]:
    """shlex.quote (what an app should do when it must build a command line). An argv list never reaches a
    shell at all, so it needs no check and is not counted."""
    reached = flagged = 0
    for payload in payloads:
        for construction in ("ls {p}", "grep -r {p} ."):
            reached += 1
            flagged += detect_shell_injection(construction.replace("{p}", shlex.quote(payload)), payload)
    return [("shell shlex.quote (ls, grep)", reached, flagged)]


# --- path --------------------------------------------------------------------------------------------

BASE = "/srv/app/files"
WINDOWS_BASE = "C:\\srv\\app\\files"


@dataclass(frozen=True)
class PathOS:
    """One operating system's reading of paths: its path module (the oracle), the app's base folder, and
    the detector's matching keyword."""

    name: str
    module: ModuleType
    base: str
    windows: bool

    def escapes(self, path: str) -> bool:
        """Independent ground truth: the path leaves the base folder once the OS normalises it (and, on
        Windows, folds its case), or holds a NUL byte."""
        normal = self.module.normcase(self.module.normpath(path))
        inside = (normal + self.module.sep).startswith(self.module.normcase(self.base) + self.module.sep)
        return "\x00" in path or not inside


POSIX = PathOS("POSIX", posixpath, BASE, windows=False)
WINDOWS = PathOS("Windows", ntpath, WINDOWS_BASE, windows=True)
PATH_CONTEXTS: dict[str, Callable[[PathOS, str], str]] = {
    "os.path.join(base, p)": lambda system, p: system.module.join(system.base, p),
    "base + sep + p": lambda system, p: system.base + system.module.sep + p,
    "os.path.join(base, unquote(p))": lambda system, p: system.module.join(system.base, unquote(p)),
}


def path_escapes(path: str) -> bool:
    """The oracle on the POSIX reading, the one of the servers this corpus runs on."""
    return POSIX.escapes(path)


def path_vulnerable(payloads: list[str]) -> list[Tally]:
    tallies = []
    for system in (POSIX, WINDOWS):
        for name, build in PATH_CONTEXTS.items():
            tally = Tally("path", f"{name} ({system.name})")
            for payload in payloads:
                path = build(system, payload)
                flagged = detect_path_traversal(path, payload, windows=system.windows)
                tally.add(payload, changed=system.escapes(path), flagged=flagged)
            tallies.append(tally)
    return tallies


def path_safe_twins(payloads: Iterable[str]) -> list[tuple[str, int, int]]:
    """The app decodes, resolves, and only opens what stays inside its folder."""
    rows = []
    for system in (POSIX, WINDOWS):
        reached = flagged = 0
        for payload in payloads:
            resolved = system.module.normpath(system.module.join(system.base, unquote(payload)))
            if system.escapes(resolved):
                continue
            reached += 1
            flagged += detect_path_traversal(resolved, payload, windows=system.windows)
        rows.append((f"path resolved and kept in its folder ({system.name})", reached, flagged))
    return rows


# --- SSRF --------------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Names documented by the operating systems and cloud vendors to reach the machine itself or its metadata.
_ORACLE_INTERNAL_NAMES = frozenset(
    {
        "localhost",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "rancher-metadata",
    }
)


def _as_httpx_sends(payload: str) -> tuple[str, str] | None:
    """The URL httpx hands its transport (default port dropped, host lower-cased, path escaped), with the
    payload as the input; None when httpx refuses to build a request."""
    try:
        return str(httpx.Request("GET", payload).url), payload
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError, TypeError):
        return None


def _host_part_url(host_part: str) -> tuple[str, str]:
    return f"http://{host_part}/", host_part


SSRF_CONTEXTS: dict[str, Callable[[str], tuple[str, str] | None]] = {
    "the URL itself": lambda p: (p, p),
    "the URL as httpx sends it": _as_httpx_sends,
    "http://{host part}/": lambda p: _host_part_url(_SCHEME.sub("", p).split("/", 1)[0]),
}
"""Each construction gives the URL the client is asked for and the user input in it (None: no request)."""


def oracle_hosts(url: str) -> set[str]:
    hosts = set()
    with contextlib.suppress(ValueError):
        hosts.add(urlsplit(url).hostname or "")
    if "//" in url:  # urllib3 reads a bare '1/26/11' as host '1'; no HTTP client would send that
        with contextlib.suppress(ValueError, urllib3.exceptions.LocationParseError):
            hosts.add(urllib3.util.parse_url(url).host or "")
    return {h.strip("[]").rstrip(".").lower() for h in hosts if h}


def oracle_internal(host: str) -> bool:
    if host in _ORACLE_INTERNAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        info = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    address = ipaddress.ip_address(str(info[0][4][0]).split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global


def ssrf_vulnerable(payloads: list[str]) -> list[Tally]:
    tallies = []
    for name, build in SSRF_CONTEXTS.items():
        tally = Tally("SSRF", name)
        for payload in payloads:
            built = build(payload)
            if built is None:
                tally.refused += 1
                continue
            url, user_input = built
            changed = any(oracle_internal(host) for host in oracle_hosts(url))
            tally.add(payload, changed=changed, flagged=detect_ssrf(url, user_input))
        tallies.append(tally)
    return tallies


def ssrf_safe_twins(payloads: Iterable[str]) -> list[tuple[str, int, int]]:
    """The user input goes only into the path or query of an allow-listed host."""
    reached = flagged = 0
    for payload in payloads:
        for url in (
            f"https://api.example.com/fetch?url={payload}",
            f"https://api.example.com/v1/{quote(payload)}",
        ):
            reached += 1
            flagged += detect_ssrf(url, payload)
    return [("SSRF input in path/query of an allow-listed host", reached, flagged)]


# --- report ------------------------------------------------------------------------------------------


def detection_table(tallies: list[Tally]) -> list[str]:
    lines = [
        "| category | construction | payloads that change it (oracle) | detected | rate | "
        "flagged though oracle saw no change | refused before the sink |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t.category} | {t.construction} | {t.changed} | {t.detected} | {t.rate} | "
        f"{t.flagged_unchanged} of {t.unchanged} | {t.refused} |"
        for t in tallies
    ]
    return lines


def twin_table(rows: list[tuple[str, int, int]]) -> list[str]:
    lines = ["| safe construction | sink calls checked | false positives |", "|---|---:|---:|"]
    lines += [f"| {name} | {reached} | {flagged} |" for name, reached, flagged in rows]
    return lines


def benign_tallies(benign: list[str], oracle: SqliteOracle) -> list[Tally]:
    """The benign lists through every vulnerable construction: flags where the oracle saw no change are
    false positives (a benign phrase with an apostrophe really does break an unescaped literal)."""
    tallies = [*sql_vulnerable(benign, oracle), *shell_vulnerable(benign)]
    tallies += [*path_vulnerable(benign), *ssrf_vulnerable(benign)]
    return tallies


def benign_table(tallies: list[Tally]) -> list[str]:
    lines = [
        "| category | construction | benign inputs that leave it unchanged (oracle) | false positives | "
        "benign inputs that do change it | of those flagged |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t.category} | {t.construction} | {t.unchanged} | {t.flagged_unchanged} | "
        f"{t.changed} | {t.detected} |"
        for t in tallies
    ]
    return lines


def write_doc(section: list[str], name: str = "corpus figures") -> None:
    """Replace the text between ``<!-- {name}: start -->`` and ``<!-- {name}: end -->``."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"{start}\n{end}\n"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    DOC.write_text(before + start + "\n" + "\n".join(section) + "\n" + end + after, encoding="utf-8")


def main() -> None:
    detector_level()
    server_level(full="--sample" not in sys.argv[1:])


def server_level(*, full: bool) -> None:
    from benchmarks import corpus_server  # it builds on this module's oracles

    server_run, _ = corpus_server.run(None if full else corpus_server.SAMPLE_SIZE)
    found = corpus_server.figures(server_run, set(read_payloads(*BENIGN)))
    section = corpus_server.report(server_run, found, full)
    print(
        "\n".join(["", "### Over a real server", "", *section, "", *corpus_server.misses(server_run, found)])
    )
    write_doc(section, "server corpus figures")


def detector_level() -> None:
    began = time.perf_counter()
    oracle = SqliteOracle()
    sqli = read_payloads("sqli.txt")
    cmdi = read_payloads("cmdi.txt")
    paths = [p.replace("{FILE}", "etc/passwd") for p in read_payloads("traversal.txt", "file-inclusion.txt")]
    ssrf = read_payloads("ssrf-urls.txt")
    benign = read_payloads(*BENIGN)

    detection = [*sql_vulnerable(sqli, oracle), *shell_vulnerable(cmdi), *path_vulnerable(paths)]
    detection += ssrf_vulnerable(ssrf)
    twins = [*sql_safe_twins(sqli + benign), *shell_safe_twins(cmdi + benign)]
    twins += [*path_safe_twins(paths + benign), *ssrf_safe_twins(ssrf + benign)]
    benign_rows = benign_tallies(benign, oracle)

    section = [
        f"Payloads: sqli.txt {len(sqli)}, cmdi.txt {len(cmdi)}, traversal.txt + file-inclusion.txt "
        f"{len(paths)}, ssrf-urls.txt {len(ssrf)}, benign lists {len(benign)} (distinct non-empty lines).",
        "",
        "### Detection in vulnerable constructions",
        "",
        *detection_table(detection),
        "",
        "### False positives on safe twins (attack payloads and benign lists)",
        "",
        *twin_table(twins),
        "",
        "### Benign lists in the vulnerable constructions",
        "",
        *benign_table(benign_rows),
        "",
        f"Run time: {time.perf_counter() - began:.0f} s.",
    ]
    print("\n".join(section))
    for tally in detection + benign_rows:
        for label, payloads in (
            ("missed", tally.missed),
            ("flagged, oracle saw no change", tally.false_alarms),
        ):
            if payloads:
                print(f"\n{label}: {tally.category} / {tally.construction} (first 15 of {len(payloads)}):")
                for payload in payloads[:15]:
                    print("   ", repr(payload))
    write_doc(section)


if __name__ == "__main__":
    main()
