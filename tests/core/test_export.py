"""Export: JSON lines to a file and readable lines on stderr, written by the worker thread, never the
request thread; the queue is bounded and what it drops is counted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.core.conftest import FRAMEWORKS, Traced
from tests.support.records import read_records
from tests.support.servers import server_environment
from tracesec.events import SecurityEvent

FLASK = FRAMEWORKS[0]


def test_file_transport_is_written_off_the_request_thread(
    traced: Callable[..., Traced], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = traced()
    transport = recorder.agent.exporter.transport
    writers: list[str] = []
    real_send = transport.send

    def send(batch: dict[str, Any]) -> Any:
        writers.append(threading.current_thread().name)
        return real_send(batch)

    monkeypatch.setattr(transport, "send", send)
    client = FLASK.client()
    for n in range(5):
        assert client.get(f"/users/{n}").status_code == 200
    spans = recorder.spans()
    assert [s["attributes"]["url.path"] for s in spans] == [f"/users/{n}" for n in range(5)]
    assert all(s["type"] == "span" and s["service"] == "shop" for s in spans)
    assert writers and set(writers) == {"tracesec-exporter"}
    assert threading.current_thread().name not in writers


CONSOLE_APP = """
import tracesec
tracesec.install(endpoint="console", flush_interval=0.05)
from tests.support.apps.flask_app import app
response = app.test_client().get("/users/3", buffered=True)
print("status", response.status_code)
"""


def test_console_transport_prints_readable_lines_on_stderr() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_APP],
        env=server_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "status 200"
    lines = [line for line in done.stderr.splitlines() if line.startswith("[tracesec] server")]
    assert len(lines) == 1, done.stderr
    assert "server GET /users/<int:uid> -> 200" in lines[0]
    assert "service=shop" in lines[0]


def test_queue_is_bounded_and_drops_are_counted(
    traced: Callable[..., Traced], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = traced(queue_size=16, batch_size=4)
    exporter = recorder.agent.exporter
    release = threading.Event()
    stuck = threading.Event()

    def slow_send(batch: dict[str, Any]) -> None:
        stuck.set()
        release.wait(30)  # a transport that hangs until the test lets go

    monkeypatch.setattr(exporter.transport, "send", slow_send)
    client = FLASK.client()
    try:
        for n in range(300):
            assert client.get(f"/users/{n}").status_code == 200  # never slowed by the stuck export
            assert exporter.pending <= 16
        assert stuck.is_set()
        assert exporter.dropped["queue_full"] >= 300 - 16 - 4 * 2
    finally:
        release.set()


def test_a_full_queue_drops_new_spans_but_makes_room_for_an_event(traced: Callable[..., Traced]) -> None:
    """Overloaded, the agent keeps what it queued first and frees a new span at once; a security event
    is worth more than a span and takes the oldest one's place."""
    recorder = traced(queue_size=16, batch_size=100, flush_interval=3600)  # the worker waits to be asked
    client = FLASK.client()
    for n in range(20):
        assert client.get(f"/users/{n}").status_code == 200
    exporter = recorder.agent.exporter
    assert exporter.pending == 16
    assert exporter.dropped["queue_full"] == 4
    recorder.agent.enqueue(SecurityEvent("scanner", "medium"))
    assert exporter.dropped["queue_full"] == 5
    paths = [span["attributes"]["url.path"] for span in recorder.spans()]
    assert paths == [f"/users/{n}" for n in range(1, 16)]
    assert [r["severity"] for r in read_records(recorder.path) if r.get("type") == "scanner"] == ["medium"]


def test_what_discovery_learns_from_a_request_ships_in_the_same_flush(traced: Callable[..., Traced]) -> None:
    """The exit flush is the last one: an endpoint first seen just before it must not be lost."""
    recorder = traced(flush_interval=3600)
    client = FLASK.client()
    assert client.get("/users/7").status_code == 200
    assert recorder.agent.exporter.flush(10)
    records = [json.loads(line) for line in recorder.path.read_text().splitlines()]
    assert [r["type"] for r in records if r["type"] == "span"] == ["span"]
    endpoints = [(r["method"], r["route"]) for r in records if r["type"] == "inventory"]
    assert endpoints == [("GET", "/users/{uid}")]
