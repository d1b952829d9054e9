"""Two instrumented services on real loopback servers: A calls B over HTTP, B queries SQLite. One trace
id across both, B's server span is the child of A's client span, and each server span lists its
dependencies (the service map)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import requests

from tests.downstream.conftest import Traced
from tests.support.servers import HOST
from tracesec.wsgi import TracesecMiddleware


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def wsgi_server(app: Callable[..., Any]) -> Iterator[str]:
    server = make_server(HOST, 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_one_trace_across_two_services(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    database = tmp_path / "b.db"
    sqlite3.connect(database).executescript("CREATE TABLE items (n INTEGER); INSERT INTO items VALUES (7);")

    def service_b(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with sqlite3.connect(database) as connection:
            (count,) = connection.execute("SELECT count(*) FROM items WHERE n > 1").fetchone()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"count": count}).encode()]

    with wsgi_server(TracesecMiddleware(service_b)) as b_url:

        def service_a(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            answer = requests.get(f"{b_url}/items?api_key=k", timeout=10).content
            start_response("200 OK", [("Content-Type", "application/json")])
            return [answer]

        with wsgi_server(TracesecMiddleware(service_a)) as a_url:
            assert httpx.get(f"{a_url}/front").json() == {"count": 1}

    spans = agent.records()
    servers = {s["attributes"]["url.path"]: s for s in spans if s["kind"] == "server"}
    clients = [s for s in spans if s["kind"] == "client"]
    a_server, b_server = servers["/front"], servers["/items"]
    [a_call] = [s for s in clients if s["attributes"].get("http.request.method")]
    [b_query] = [s for s in clients if s["attributes"].get("db.system")]
    assert {s["trace_id"] for s in (a_server, a_call, b_server, b_query)} == {a_server["trace_id"]}
    assert a_server["parent_span_id"] is None
    assert a_call["parent_span_id"] == a_server["span_id"]
    assert b_server["parent_span_id"] == a_call["span_id"]
    assert b_query["parent_span_id"] == b_server["span_id"]
    b_port = b_url.rsplit(":", 1)[1]
    assert a_server["attributes"]["tracesec.dependencies"] == [f"http:127.0.0.1:{b_port}"]
    assert b_server["attributes"]["tracesec.dependencies"] == ["sqlite:b.db"]
    assert "api_key=k" not in a_call["attributes"]["url.full"]
