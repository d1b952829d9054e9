"""Added cost per instrumented downstream call, against the bare call, in one run: an httpx request to
a loopback server and a sqlite query, inside a request (span recorded) and outside one (checks only);
plus open() of a file, which tracesec wraps process-wide. The figures are the calling thread's cost;
serialising and shipping the spans happens on the export worker (see bench_exporter). Bare and
instrumented rounds alternate, with install/uninstall between them, so drift touches both alike."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

import tracesec
from benchmarks.harness import per_call_us, report, row
from tracesec.context import EnvironHeaders, RequestContext, _current

ROUNDS = 9


_PEER = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def _request_context(agent: tracesec.Agent) -> Iterator[None]:
    ctx = RequestContext(agent.config, "bench", "GET", "http", "b", "/", "", EnvironHeaders({}), "", None)
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)


def main() -> None:
    # The peer runs in its own process, so it does not share this one's GIL with the calls measured.
    peer = subprocess.Popen([sys.executable, "-c", _PEER], stdout=subprocess.PIPE, text=True)
    assert peer.stdout is not None
    url = f"http://127.0.0.1:{peer.stdout.readline().strip()}/"
    workdir = tempfile.mkdtemp()
    database = os.path.join(workdir, "bench.db")
    plain_file = os.path.join(workdir, "file.txt")
    with open(plain_file, "w") as handle:
        handle.write("x")
    sqlite3.connect(database).executescript("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")

    def cases() -> dict[str, tuple[Callable[[], object], int]]:
        client = httpx.Client()  # made after install/uninstall: same client code either way
        connection = sqlite3.connect(database)
        return {
            "httpx GET to loopback": (lambda: client.get(url), 400),
            "sqlite SELECT": (lambda: connection.execute("SELECT a FROM t WHERE a = 1").fetchall(), 3000),
            "open() + close()": (lambda: open(plain_file).close(), 3000),
        }

    figures: dict[str, list[float]] = {}

    def measure(label: str, in_request: bool, agent: tracesec.Agent | None) -> None:
        for name, (fn, number) in cases().items():
            key = f"{name} [{label}]"
            if in_request and agent is not None:
                with _request_context(agent):
                    figures.setdefault(key, []).extend(per_call_us(fn, number=number, repeat=1))
            else:
                figures.setdefault(key, []).extend(per_call_us(fn, number=number, repeat=1))

    endpoint = f"file://{os.path.join(workdir, 'spans.jsonl')}"
    for _ in range(ROUNDS):
        tracesec.uninstall()
        measure("bare", False, None)
        # The export worker stays asleep: its cost is bench_exporter's, this measures the calling thread.
        agent = tracesec.install(
            endpoint=endpoint, queue_size=1_000_000, batch_size=100_000, flush_interval=3600
        )
        measure("outside a request", False, agent)
        measure("in a request", True, agent)
        tracesec.uninstall()

    rows = []
    for name in ("httpx GET to loopback", "sqlite SELECT", "open() + close()"):
        bare = figures[f"{name} [bare]"]
        for label in ("outside a request", "in a request"):
            rows.append(row(f"{name} {label}", figures[f"{name} [{label}]"], baseline=bare))
    report("downstream", rows)
    peer.terminate()
    peer.wait()


if __name__ == "__main__":
    main()
