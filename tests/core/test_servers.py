"""Real servers on loopback ports (gunicorn with threads, uvicorn): per-request isolation under 100
concurrent requests, and the bad input a real socket can carry."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.records import Record, server_spans, wait_for_records
from tests.support.servers import (
    HOST,
    Server,
    body_of,
    free_port,
    gunicorn,
    raw_request,
    read_until,
    serve,
    status_of,
    uvicorn,
)


@dataclass
class Served:
    name: str
    server: Server
    spans_path: Path

    def spans_where(self, test: str, count: int) -> list[Record]:
        """Server spans of requests sent with ``X-Test: <test>``, once ``count`` of them arrived."""

        def matching(path: str | Path) -> list[Record]:
            return [
                s for s in server_spans(path) if s["attributes"].get("http.request.header.x-test") == [test]
            ]

        return wait_for_records(self.spans_path, lambda spans: len(spans) >= count, select=matching)


def mark(test: str) -> dict[str, str]:
    return {"X-Test": test}


SERVERS = {
    "flask-gunicorn": ("tests.support.apps.flask_app:app", "gunicorn"),
    "starlette-uvicorn": ("tests.support.apps.starlette_app:app", "uvicorn"),
    "django-gunicorn": ("tests.support.apps.djangoproj.wsgi:application", "gunicorn"),
    "django-uvicorn": ("tests.support.apps.djangoproj.asgi:application", "uvicorn"),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    app, program = SERVERS[request.param]
    spans_path = tmp_path_factory.mktemp(request.param) / "spans.jsonl"
    port = free_port()
    if program == "gunicorn":
        command = gunicorn(app, port, "--threads", "16", "--limit-request-line", "0", "--timeout", "60")
    else:
        command = uvicorn(app, port, "--log-level", "warning")
    env = {
        "TEST_TRACESEC_INSTALL": "after",
        "TRACESEC_ENDPOINT": f"file://{spans_path}",
        "TRACESEC_FLUSH_INTERVAL": "0.05",
        "TRACESEC_MAX_BODY_BYTES": "100000",
    }
    with serve(command, port, env) as server:
        yield Served(request.param, server, spans_path)


def test_concurrent_requests_each_carry_only_their_own_data(served: Served) -> None:
    ids = [f"u{n:03d}x{n * 7919 % 1000:03d}" for n in range(100)]

    def call(rid: str) -> tuple[int, dict[str, object]]:
        with httpx.Client(base_url=served.server.url, timeout=30) as client:
            response = client.post(
                f"/items/{rid}", params={"id": rid}, json={"rid": rid, "pad": rid * 20}, headers=mark("many")
            )
            return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(call, ids))
    assert all(status == 200 for status, _ in answers)
    assert [answer["rid"] for _, answer in answers] == ids
    spans = served.spans_where("many", 100)
    assert len(spans) == 100
    seen = set()
    for span in spans:
        attributes = span["attributes"]
        rid = attributes["url.path"].removeprefix("/items/")
        assert attributes["enduser.id"] == rid
        assert attributes["url.query"] == f"id={rid}"
        assert json.loads(attributes["tracesec.request.body"])["rid"] == rid
        assert json.loads(attributes["tracesec.response.body"])["rid"] == rid
        assert attributes["http.response.status_code"] == 200
        seen.add(rid)
    assert seen == set(ids)
    assert len({span["trace_id"] for span in spans}) == 100


def test_real_socket_request_is_traced(served: Served) -> None:
    response = httpx.get(
        f"{served.server.url}/users/42?q=1", headers={"User-Agent": "socket-test", **mark("socket")}
    )
    assert response.status_code == 200
    (span,) = served.spans_where("socket", 1)
    attributes = span["attributes"]
    assert attributes["client.address"] == HOST
    assert attributes["network.peer.address"] == HOST
    assert attributes["server.address"].startswith(HOST)
    assert attributes["user_agent.original"] == "socket-test"
    assert attributes["http.route"] in ("/users/<int:uid>", "/users/{uid}")


def test_chunked_request_body_without_content_length(served: Served) -> None:
    chunks = [b"hello ", b"chunked ", b"world"]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    reply = raw_request(
        served.server.port,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: chunked\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + body,
    )
    assert status_of(reply) == 200
    if served.name == "django-gunicorn":
        assert body_of(reply) == b""  # Django's WSGIRequest reads no body without Content-Length
        return
    assert body_of(reply) == b"hello chunked world"
    (span,) = served.spans_where("chunked", 1)
    assert span["attributes"]["tracesec.request.body"] == "hello chunked world"
    assert span["attributes"]["http.request.body.size"] == len(b"hello chunked world")


def test_non_utf8_bytes_in_path_query_and_headers(served: Served) -> None:
    reply = raw_request(
        served.server.port,
        b"GET /users/7?q=caf%E9&r=%FF HTTP/1.1\r\nHost: x\r\nX-Test: odd\r\nX-Odd: \xff\xfe\r\n"
        b"User-Agent: agent-\xe9\r\nConnection: close\r\n\r\n",
    )
    assert status_of(reply) == 200
    (span,) = served.spans_where("odd", 1)
    attributes = span["attributes"]
    assert attributes["url.path"] == "/users/7"
    assert attributes["url.query"] == "q=caf%E9&r=%FF"
    assert "http.request.header.x-odd" in attributes
    assert attributes["user_agent.original"].startswith("agent-")
    reply = raw_request(
        served.server.port,
        b"GET /caf%C3%A9/%FF%FE HTTP/1.1\r\nHost: x\r\nX-Test: odd-path\r\nConnection: close\r\n\r\n",
    )
    assert status_of(reply) == 404
    (span,) = served.spans_where("odd-path", 1)
    assert span["attributes"]["url.path"] == "/caf\u00e9/\ufffd\ufffd"
    assert span["attributes"]["http.response.status_code"] == 404


def test_client_disconnecting_mid_body_leaves_the_server_serving(served: Served) -> None:
    with socket.create_connection((HOST, served.server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000\r\n\r\n"
            b'{"partial": '
        )
    assert served.server.alive()
    response = httpx.post(
        f"{served.server.url}/users/11", json={"a": 1}, headers=mark("after-cut"), timeout=10
    )
    assert response.status_code == 200
    assert served.spans_where("after-cut", 1)


def test_ten_thousand_query_parameters(served: Served) -> None:
    query = "&".join(f"p{n}={n}" for n in range(10_000)) + "&password=hunter22"
    reply = raw_request(
        served.server.port,
        f"GET /users/12?{query} HTTP/1.1\r\nHost: x\r\nX-Test: wide\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status_of(reply) == 200
    assert len(json.loads(body_of(reply))["query"]) == 10_001
    (span,) = served.spans_where("wide", 1)
    recorded = span["attributes"]["url.query"]
    assert recorded.startswith("p0=0&p1=1&")
    assert recorded.endswith("&password=%5BREDACTED%5D")


def test_deeply_nested_and_invalid_json(served: Served) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    response = httpx.post(
        f"{served.server.url}/echo",
        content=deep,
        headers={"Content-Type": "application/json", **mark("deep")},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.text == deep
    invalid = b'{"password": "hunter22", "broken": '
    response = httpx.post(
        f"{served.server.url}/echo",
        content=invalid,
        headers={"Content-Type": "application/json", **mark("deep")},
    )
    assert response.content == invalid
    spans = served.spans_where("deep", 2)
    bodies = [s["attributes"].get("tracesec.request.body", "") for s in spans]
    assert any(body.startswith("[[[[") for body in bodies)
    assert any('"password": "[REDACTED]"' in body for body in bodies)
    assert not any("hunter22" in body for body in bodies)


def test_streaming_response_is_streamed_not_buffered(served: Served) -> None:
    if served.name == "django-uvicorn":
        pytest.skip("Django's ASGI handler itself buffers a synchronous streaming iterator")
    with socket.create_connection((HOST, served.server.port), timeout=8) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nX-Test: stream\r\nConnection: close\r\n\r\n")
        head = read_until(sock, b"first\n")
        assert b"first\n" in head  # arrived while the generator still waits for the release
        assert b"second" not in head
        assert httpx.get(f"{served.server.url}/stream/release", timeout=5).status_code == 200
        rest = read_until(sock, b"second\n")
    assert b"second\n" in rest
    (span,) = served.spans_where("stream", 1)
    assert span["attributes"]["http.response.body.size"] == len(b"first\nsecond\n")
