"""The corpus run over a real server: every payload through the vulnerable routes of
examples/vulnerable_app.py and their safe twins, served by gunicorn (several workers and threads) on
127.0.0.1 in block mode, sent by concurrent keep-alive httpx clients.

Each payload is labelled with the oracles of benchmarks.corpus, applied to the value the app really
receives (the query string as sent, parsed by Werkzeug itself) in the construction the route builds. A
payload the stack refuses before the sink (httpx cannot build a request from the URL, the driver refuses a
NUL byte, the server answers 400 itself) has no truth to compare with and is counted apart.

The workers run in the sandbox of examples/corpus_sandbox.py: no process, no connection but to the app
itself, no DNS, reads only inside a folder of decoys and the Python installation, writes only to a scratch
folder; each worker tests it before serving.
"""

from __future__ import annotations

import ast
import contextlib
import json
import posixpath
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx
from werkzeug.wrappers import Request

from benchmarks.corpus import (
    BASE,
    BENIGN,
    SqliteOracle,
    Tally,
    bash_changes,
    benign_table,
    detection_table,
    oracle_hosts,
    oracle_internal,
    path_escapes,
    read_payloads,
    twin_table,
)
from tests.support.servers import ROOT, free_port, serve

APP = "examples.vulnerable_app:app"
APP_SOURCE = ROOT / "examples" / "vulnerable_app.py"
SANDBOX_CONFIG = "python:examples.corpus_sandbox"
WORKERS, THREADS, CLIENTS = 2, 4, 4
SAMPLE_SIZE, SAMPLE_SEED = 1500, 5
"""``--sample``: this many payloads of each list, drawn with this seed (every payload of the shorter
lists: cmdi, SSRF, benign); by default every payload is sent."""
DECOY_DEPTH = 12
DECOYS = {
    "etc/passwd": "decoy:x:0:0::/:/bin/false\n",
    "etc/hostname": "decoy\n",
    "windows/win.ini": "[decoy]\n",
}
Label = Callable[[str], "bool | None"]


def app_constants(*names: str) -> dict[str, str]:
    """String constants of the vulnerable app read from its source: importing it would install tracesec."""
    tree = ast.parse(APP_SOURCE.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in names
        ):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


@dataclass(frozen=True)
class Route:
    """One route of the app, the query parameter it reads, and for a vulnerable one the construction it
    builds (as a label: does the received value change it, None when no truth)."""

    category: str
    path: str
    param: str
    construction: str
    label: Label | None = None
    raw: bool = False
    """True: the payload goes into the URL as written (the server decodes it once, as for a real attack);
    False: it is percent-encoded, so the app receives exactly the corpus string."""


@dataclass
class Outcome:
    route: Route
    payload: str
    received: str
    status: int
    blocked: bool
    rejected_by_server: bool


@dataclass
class ServerRun:
    """Every outcome, and what the sandbox recorded."""

    outcomes: list[Outcome]
    sandbox: list[dict[str, Any]]
    seconds: float
    payload_counts: dict[str, int] = field(default_factory=dict)


# --- labels ------------------------------------------------------------------------------------------


class Labels:
    """The oracles of benchmarks.corpus for the constructions the app's routes build, memoised."""

    def __init__(self, workdir: str) -> None:
        self.sqlite = SqliteOracle()
        self.workdir = workdir
        self.templates = app_constants("SQL_BY_NAME", "SQL_BY_ID", "SHELL_LIST")
        self.client = httpx.Client()
        self._shell: dict[str, bool] = {}

    def sql_by_name(self, value: str) -> bool | None:
        return self.sqlite.changes(self.templates["SQL_BY_NAME"], ("x",), value)

    def sql_by_id(self, value: str) -> bool | None:
        return self.sqlite.changes(self.templates["SQL_BY_ID"], ("1", "'x'", "name"), value)

    def shell(self, value: str) -> bool:
        if value not in self._shell:
            self._shell[value] = bash_changes(self.templates["SHELL_LIST"], value, self.workdir)
        return self._shell[value]

    def prepare_shell(self, values: set[str]) -> None:
        """bash runs for every value at once, in parallel."""
        todo = sorted(values - self._shell.keys())
        with ThreadPoolExecutor(max_workers=8) as pool:
            self._shell.update(zip(todo, pool.map(self.shell, todo), strict=True))

    @staticmethod
    def joined_path(value: str) -> bool:
        """The POSIX reading: the server's own (a backslash is a file-name character there)."""
        return path_escapes(posixpath.join(BASE, value))

    @staticmethod
    def pathlib_path(value: str) -> bool:
        return path_escapes(str(PurePosixPath(BASE) / value))

    def fetched_url(self, value: str) -> bool | None:
        """The URL httpx.get sends (None when httpx refuses to build a request from it)."""
        try:
            url = str(self.client.build_request("GET", value).url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError, TypeError):
            return None
        return any(oracle_internal(host) for host in oracle_hosts(url))


def routes(labels: Labels) -> list[Route]:
    return [
        Route("SQL", "/users/search", "name", "name = '{p}'", labels.sql_by_name),
        Route("SQL", "/users/by-id", "id", "id = {p}", labels.sql_by_id),
        Route("SQL", "/users/search-safe", "name", "parameterised"),
        Route("SQL", "/users/by-id-safe", "id", "parameterised"),
        Route("shell", "/list", "dir", "subprocess.run(shell=True)", labels.shell),
        Route("shell", "/list-sh", "dir", 'subprocess.run(["sh", "-c", ...])', labels.shell),
        Route("shell", "/list-system", "dir", "os.system", labels.shell),
        Route("shell", "/list-safe", "dir", "argv list"),
        Route("shell", "/list-quoted", "dir", "shlex.quote"),
        Route("path", "/files", "name", "open(os.path.join(base, p))", labels.joined_path, raw=True),
        Route("path", "/files-pathlib", "name", "(base / p).read_bytes()", labels.pathlib_path, raw=True),
        Route("path", "/files-safe", "name", "resolved and kept in its folder", raw=True),
        Route("SSRF", "/fetch", "url", "httpx.get(p)", labels.fetched_url),
        Route("SSRF", "/fetch-safe", "q", "its one upstream, allow-listed by host:port, p in the query"),
    ]


# --- sending -----------------------------------------------------------------------------------------


def raw_query_value(payload: str) -> str:
    """The payload as an attacker types it into a URL: only what would end the value or break the
    request line is escaped (controls, space, non-ASCII, ``#``, ``&``)."""
    return "".join(c if "!" <= c <= "~" and c not in "#&" else quote(c, safe="") for c in payload)


def received_value(query: bytes, param: str) -> str:
    """What ``request.args[param]`` holds in the app for this query string (Werkzeug's own parsing)."""
    return str(Request({"QUERY_STRING": query.decode("latin-1")}).args.get(param, ""))


def send_all(base_url: str, cases: list[tuple[Route, str]]) -> list[Outcome]:
    local = threading.local()
    clients: list[httpx.Client] = []

    def send(case: tuple[Route, str]) -> Outcome:
        route, payload = case
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base_url, timeout=30.0)
            clients.append(client)
        value = raw_query_value(payload) if route.raw else quote(payload, safe="")
        url = httpx.URL(base_url).copy_with(raw_path=f"{route.path}?{route.param}={value}".encode("ascii"))
        request = client.build_request("GET", url)
        response = client.send(request)
        json_reply = response.headers.get("content-type", "").startswith("application/json")
        blocked = (
            response.status_code == 403 and json_reply and response.json().get("error") == "request blocked"
        )
        return Outcome(
            route,
            payload,
            received_value(request.url.query, route.param),
            response.status_code,
            blocked,
            rejected_by_server=response.status_code == 400 and not json_reply,
        )

    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return list(pool.map(send, cases))
    finally:
        for client in clients:
            client.close()


@contextlib.contextmanager
def sandboxed_app(folder: Path, mode: str = "block") -> Iterator[tuple[str, Path]]:
    """The vulnerable app under gunicorn in the sandbox; yields its URL and the sandbox's record."""
    root, scratch = folder / "decoys", folder / "scratch"
    files = root.joinpath(*[f"d{level}" for level in range(DECOY_DEPTH)], "files")
    files.mkdir(parents=True)
    scratch.mkdir()
    (files / "hello.txt").write_text("hello\n")
    for place in (root, files.parent, files):
        for name, text in DECOYS.items():
            (place / name).parent.mkdir(parents=True, exist_ok=True)
            (place / name).write_text(text)
    port = free_port()
    record = scratch / "sandbox.jsonl"
    env = {
        "TRACESEC_MODE": mode,
        "TRACESEC_ENDPOINT": f"file://{scratch / 'events.jsonl'}",
        "TRACESEC_BEHAVIOR": "false",
        "VULNERABLE_APP_FILES": str(files),
        "VULNERABLE_APP_UPSTREAM": f"http://127.0.0.1:{port}",
        # The safe twin's upstream, by host and port: other ports of 127.0.0.1 stay protected.
        "TRACESEC_PROTECT_ALLOW_HOSTS": f"127.0.0.1:{port}",
        "CORPUS_SANDBOX_ROOT": str(root),
        "CORPUS_SANDBOX_WRITABLE": str(scratch),
        "CORPUS_SANDBOX_PORTS": str(port),
        "CORPUS_SANDBOX_LOG": str(record),
        "TMPDIR": str(scratch),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--config", SANDBOX_CONFIG, "--bind", f"127.0.0.1:{port}",
        "--workers", str(WORKERS), "--threads", str(THREADS), APP,
    ]  # fmt: skip
    with serve(command, port, env, cwd=scratch) as server:
        yield server.url, record


def read_record(path: Path) -> list[dict[str, Any]]:
    with contextlib.suppress(FileNotFoundError):
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return []


# --- the run -----------------------------------------------------------------------------------------


def corpus_lists(sample: int | None) -> dict[str, list[str]]:
    """The attack lists per category and the benign lists, each cut to ``sample`` payloads drawn with
    SAMPLE_SEED when it is longer (None: every payload)."""
    lists = {
        "SQL": read_payloads("sqli.txt"),
        "shell": read_payloads("cmdi.txt"),
        "path": [
            p.replace("{FILE}", "etc/passwd") for p in read_payloads("traversal.txt", "file-inclusion.txt")
        ],
        "SSRF": read_payloads("ssrf-urls.txt"),
        "benign": read_payloads(*BENIGN),
    }
    if sample is None:
        return lists
    chosen = random.Random(SAMPLE_SEED)
    return {name: p if len(p) <= sample else chosen.sample(p, sample) for name, p in lists.items()}


def run(
    sample: int | None = SAMPLE_SIZE, also: Mapping[str, Iterable[str]] | None = None
) -> tuple[ServerRun, Labels]:
    """Send the lists (``sample``: see ``corpus_lists``), plus the payloads of ``also`` (per list) that the
    sample did not draw."""
    began = time.perf_counter()
    lists = corpus_lists(sample)
    for name, payloads in (also or {}).items():
        lists[name] = list(dict.fromkeys([*lists[name], *payloads]))
    with tempfile.TemporaryDirectory(prefix="tracesec-corpus-") as folder:
        labels = Labels(folder)
        Path(folder, "glob-hit").write_text("")
        every_route = routes(labels)
        cases = [(r, p) for r in every_route for p in lists[r.category] + lists["benign"]]
        random.Random(SAMPLE_SEED).shuffle(cases)  # routes and lists interleaved across the clients
        with sandboxed_app(Path(folder) / "server") as (url, record):
            outcomes = send_all(url, cases)
        labels.prepare_shell({o.received for o in outcomes if o.route.category == "shell"})
        server_run = ServerRun(outcomes, read_record(record), time.perf_counter() - began)
    server_run.payload_counts = {name: len(payloads) for name, payloads in lists.items()}
    return server_run, labels


@dataclass
class Figures:
    detection: list[Tally]
    safe: list[tuple[str, int, int]]
    benign: list[Tally]
    rejected_by_server: int
    blocked_yet_spawned: int


def figures(server_run: ServerRun, benign: set[str]) -> Figures:
    detection: dict[str, Tally] = {}
    benign_tallies: dict[str, Tally] = {}
    safe: Counter[str] = Counter()
    safe_flagged: Counter[str] = Counter()
    rejected = 0
    for outcome in sorted(server_run.outcomes, key=lambda o: (o.route.path, o.payload)):
        route = outcome.route
        if outcome.rejected_by_server:
            rejected += 1
            continue
        name = f"{route.path} ({route.construction})"
        if route.label is None:
            safe[f"{route.category} {name}"] += 1
            safe_flagged[f"{route.category} {name}"] += outcome.blocked
            continue
        tallies = benign_tallies if outcome.payload in benign else detection
        tally = tallies.setdefault(name, Tally(route.category, name))
        changed = route.label(outcome.received)
        if changed is None:
            tally.refused += 1
        else:
            tally.add(outcome.payload, changed=changed, flagged=outcome.blocked)
    return Figures(
        list(detection.values()),
        [(name, safe[name], safe_flagged[name]) for name in safe],
        list(benign_tallies.values()),
        rejected,
        blocked_yet_spawned(server_run),
    )


def blocked_yet_spawned(server_run: ServerRun) -> int:
    """Blocked shell requests whose command nevertheless reached process creation (must be 0)."""
    commands = set()
    for entry in server_run.sandbox:
        if entry["call"] == "os.system":
            commands.add(str(entry["target"]).removesuffix(" >/dev/null"))
        elif entry["call"] == "_posixsubprocess.fork_exec":
            commands.add(str(entry["target"][0][-1]))
    blocked = {o.received for o in server_run.outcomes if o.route.category == "shell" and o.blocked}
    return sum(f"ls {value}" in commands for value in blocked)


def sandbox_summary(server_run: ServerRun) -> str:
    kinds = Counter(r["kind"] for r in server_run.sandbox if r["kind"] != "selftest")
    tests = [r for r in server_run.sandbox if r["kind"] == "selftest"]
    passed = sum(r["target"] == [] for r in tests)
    refused = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "none"
    return (
        f"Sandbox: {passed} of {len(tests)} workers passed the self-test; calls refused or faked: {refused}."
    )


def report(server_run: ServerRun, found: Figures, full: bool) -> list[str]:
    """The markdown figures of one run, for docs/detection.md."""
    counts = server_run.payload_counts
    scope = (
        "full lists" if full else f"deterministic sample (seed {SAMPLE_SEED}, at most {SAMPLE_SIZE} per list)"
    )
    return [
        f"Run: {scope}; payloads: SQL {counts['SQL']}, shell {counts['shell']}, path {counts['path']}, "
        f"SSRF {counts['SSRF']}, benign {counts['benign']}; {len(server_run.outcomes)} requests in "
        f"{server_run.seconds:.0f} s (gunicorn {WORKERS} workers x {THREADS} threads, {CLIENTS} keep-alive "
        "clients, block mode).",
        "",
        "#### Detection on the vulnerable routes",
        "",
        *detection_table(found.detection),
        "",
        "The last column counts payloads with no truth to compare with: the driver refuses a NUL byte (SQL), "
        "or httpx cannot build a request from the URL (SSRF): they never reach the sink.",
        "",
        "#### False positives on the safe routes (attack and benign payloads)",
        "",
        *twin_table(found.safe),
        "",
        "#### Benign lists on the vulnerable routes",
        "",
        *benign_table(found.benign),
        "",
        f"Requests the server rejected before the app (400, not JSON): {found.rejected_by_server}. "
        f"Blocked shell payloads whose command still reached process creation: {found.blocked_yet_spawned}.",
        sandbox_summary(server_run),
    ]


def misses(server_run: ServerRun, found: Figures) -> list[str]:
    """Console detail: what was missed, and what the safe routes blocked."""
    lines = []
    for tally in found.detection + found.benign:
        for label, payloads in (
            ("missed", tally.missed),
            ("flagged, oracle saw no change", tally.false_alarms),
        ):
            if payloads:
                lines.append(f"{label}: {tally.construction} ({len(payloads)}): {payloads[:10]!r}")
    blocked_safe = [
        (o.route.path, o.received) for o in server_run.outcomes if o.route.label is None and o.blocked
    ]
    if blocked_safe:
        lines.append(f"blocked on safe routes ({len(blocked_safe)}): {blocked_safe[:20]!r}")
    return lines
