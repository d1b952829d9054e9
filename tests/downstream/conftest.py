"""Fixtures of the downstream-call tests: an installed agent exporting to a JSON-lines file, a recorder
subscribed to every sink kind, a request context to run calls in, and real peers on loopback (an HTTP
server, a PostgreSQL cluster)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import tracesec
from tests.support.records import Record, read_records
from tests.support.servers import HOST, free_port, wait_for_port
from tracesec.context import EnvironHeaders, RequestContext, _current
from tracesec.events import Blocked, SecurityEvent
from tracesec.failsafe import internal_errors
from tracesec.hooks import HOOKS, SINK_KINDS
from tracesec.serving import finish_request

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class SinkCall:
    kind: str
    value: str
    details: dict[str, Any]
    in_request: bool


@dataclass
class Traced:
    """An installed agent, the file its spans go to, and every sink check it made."""

    agent: tracesec.Agent
    path: Path
    sink_calls: list[SinkCall] = field(default_factory=list)
    block: set[str] = field(default_factory=set)

    def records(self) -> list[Record]:
        assert self.agent.exporter.flush(10.0), "the exporter did not flush in time"
        return [r for r in read_records(self.path) if r.get("type") == "span"]

    def client_spans(self) -> list[Record]:
        return [r for r in self.records() if r["kind"] == "client"]

    def client_span(self) -> Record:
        spans = self.client_spans()
        assert len(spans) == 1, spans
        return spans[0]

    def checks(self, kind: str) -> list[SinkCall]:
        return [call for call in self.sink_calls if call.kind == kind]

    def _check(self, ctx: RequestContext | None, kind: str, value: str, details: Mapping[str, Any]) -> None:
        self.sink_calls.append(SinkCall(kind, value, dict(details), ctx is not None))
        if kind in self.block:
            raise Blocked(SecurityEvent("ssrf" if kind == "outbound" else "sql_injection", blocked=True))

    @contextmanager
    def request(self) -> Iterator[RequestContext]:
        """Run the block as a request being served: a server span in context, finished at the end."""
        ctx = RequestContext(
            self.agent.config, "test", "GET", "http", "test", "/", "", EnvironHeaders({}), HOST, None
        )
        token = _current.set(ctx)
        try:
            yield ctx
        finally:
            _current.reset(token)
            finish_request(ctx)


@pytest.fixture(autouse=True)
def clean_agent(clean_tracesec: None) -> Iterator[None]:
    """A clean agent per test (the shared fixture), and no internal error counted by the end of it."""
    yield
    assert internal_errors() == {}, "tracesec counted internal errors"


@pytest.fixture
def traced(tmp_path: Path) -> Callable[..., Traced]:
    """``traced(**settings)`` installs tracesec exporting to tmp_path and records every sink check."""

    def install(**settings: Any) -> Traced:
        path = tmp_path / "spans.jsonl"
        settings.setdefault("endpoint", f"file://{path}")
        settings.setdefault("flush_interval", 0.05)
        result = Traced(tracesec.install(**settings), path)
        for kind in SINK_KINDS:
            HOOKS.add_sink_check(kind, result._check)
        return result

    return install


class Peer:
    """A loopback HTTP server: /status/N answers N, /redirect?to=URL answers 302, every answer is JSON
    with the request's method, path and traceparent. ``hits`` counts requests."""

    def __init__(self) -> None:
        self.hits = 0
        self.received: list[dict[str, Any]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                peer.hits += 1
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = {
                    "method": self.command,
                    "path": self.path,
                    "traceparent": self.headers.get("traceparent"),
                    "body_size": len(body),
                }
                peer.received.append(seen)
                parts = urlsplit(self.path)
                if parts.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", parse_qs(parts.query)["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = int(parts.path.split("/")[2]) if parts.path.startswith("/status/") else 200
                payload = json.dumps(seen).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = HOST) -> str:
        return f"http://{host}:{self.port}{path}"

    def reset(self) -> None:
        self.hits = 0
        self.received.clear()


@pytest.fixture(scope="session")
def peer_server() -> Iterator[Peer]:
    peer = Peer()
    yield peer
    peer.server.shutdown()
    peer.server.server_close()


@pytest.fixture
def peer(peer_server: Peer) -> Peer:
    peer_server.reset()
    return peer_server


@dataclass
class Postgres:
    port: int
    dbname: str = "appdb"
    user: str = "postgres"

    @property
    def conninfo(self) -> str:
        return f"host={HOST} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@{HOST}:{self.port}/{self.dbname}"


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root (CI does): run it as ``nobody`` then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    return [runuser, "-u", "nobody", "--", *command]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free loopback port, with database ``appdb``."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="tracesec-pg-"))
    data = base / "data"
    os.chmod(base, 0o777)
    if os.geteuid() == 0:
        shutil.chown(base, "nobody")
    port = free_port()
    run = _as_postgres_user
    init = subprocess.run(
        run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-p {port} -k {base} -c listen_addresses={HOST} -c fsync=off"
    start = subprocess.run(
        run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]),
        capture_output=True,
        text=True,
        check=False,
    )
    if start.returncode != 0 or not wait_for_port(port):
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {start.stderr.strip()[-500:]}")
    try:
        import psycopg

        with psycopg.connect(
            f"host={HOST} port={port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE appdb")
        yield Postgres(port)
    finally:
        subprocess.run(
            run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)
