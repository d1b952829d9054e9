"""An app with the agent (gunicorn + Flask, TRACESEC_ENDPOINT=http://...) exporting to a collector
process: every span arrives once, and a collector outage loses only what overflowed the agent's queue,
which the agent counts and reports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tests.support.servers import Server, free_port, gunicorn, serve
from tracesec.collector.process import CollectorProcess

QUEUE_SIZE = 32
BATCH_SIZE = 8


def _agent_env(collector: CollectorProcess, queue_size: int) -> dict[str, str]:
    return {
        "TEST_TRACESEC_INSTALL": "after",
        "TRACESEC_SERVICE": "e2e",
        "TRACESEC_ENDPOINT": collector.url,
        "TRACESEC_API_KEY": API_KEY,
        "TRACESEC_FLUSH_INTERVAL": "0.05",
        "TRACESEC_QUEUE_SIZE": str(queue_size),
        "TRACESEC_BATCH_SIZE": str(BATCH_SIZE),
        "TRACESEC_RETRY_MAX_TIME": "120",
        # Spans only: a behaviour event would take a queue slot and blur the overflow accounting.
        "TRACESEC_BEHAVIOR": "false",
        "TRACESEC_DISCOVERY": "false",
    }


@pytest.fixture
def app_and_collector(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, CollectorProcess]]:
    """Parametrised (indirectly) with the agent's queue size."""
    with CollectorProcess(tmp_path / "collector.sqlite", api_key=API_KEY) as collector:
        port = free_port()
        command = gunicorn("tests.support.apps.flask_app:app", port, "--threads", "8", "--timeout", "60")
        with serve(command, port, _agent_env(collector, request.param)) as app:
            yield app, collector


def _agent_metrics(collector: CollectorProcess) -> dict[str, Any]:
    reply = httpx.get(collector.url + "/v1/instances", params={"service": "e2e"}, headers=collector.headers)
    (instance,) = reply.json()["instances"]
    metrics: dict[str, Any] = instance["metrics"]
    return metrics


def _tagged_server_spans(collector: CollectorProcess, tag: str) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    params: dict[str, Any] = {"service": "e2e", "limit": 1000}
    for _ in range(1000):
        page = httpx.get(collector.url + "/v1/spans", params=params, headers=collector.headers).json()
        spans += [
            span
            for span in page["spans"]
            if span["kind"] == "server" and span["attributes"].get("http.request.header.x-test") == [tag]
        ]
        if page["next_cursor"] is None:
            return spans
        params["cursor"] = page["next_cursor"]
    raise AssertionError("paging never ended")


def _wait_for_spans(collector: CollectorProcess, tag: str, count: int) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for _ in range(600):
        spans = _tagged_server_spans(collector, tag)
        if len(spans) >= count:
            return spans
        time.sleep(0.1)
    raise AssertionError(f"{len(spans)} of {count} {tag!r} spans arrived")


def _call(app: Server, tag: str, count: int) -> None:
    with httpx.Client(base_url=app.url, timeout=30) as client:
        for n in range(count):
            assert client.get(f"/users/{n}", headers={"X-Test": tag}).status_code == 200


@pytest.mark.parametrize("app_and_collector", [2048], indirect=True)
def test_every_span_arrives_once(app_and_collector: tuple[Server, CollectorProcess]) -> None:
    app, collector = app_and_collector
    _call(app, "once", 150)
    spans = _wait_for_spans(collector, "once", 150)
    assert len(spans) == 150
    assert len({span["span_id"] for span in spans}) == 150
    assert sorted(span["attributes"]["url.path"] for span in spans) == sorted(
        f"/users/{n}" for n in range(150)
    )


@pytest.mark.parametrize("app_and_collector", [QUEUE_SIZE], indirect=True)
def test_collector_outage_loses_only_what_overflowed_and_counts_it(
    app_and_collector: tuple[Server, CollectorProcess],
) -> None:
    """While the collector is down the queue keeps what it holds (the outage's first spans) and drops the
    newer ones, counted; once it is back the backlog is delivered and new requests are exported again."""
    app, collector = app_and_collector
    _call(app, "before", 5)
    _wait_for_spans(collector, "before", 5)
    collector.kill()
    sent_while_down = 4 * QUEUE_SIZE
    _call(app, "down", sent_while_down)
    collector.start()  # same port, same database
    _wait_for_spans(collector, "down", QUEUE_SIZE)
    _call(app, "after", 1)
    _wait_for_spans(collector, "after", 1)
    arrived = _tagged_server_spans(collector, "down")
    held = {int(span["attributes"]["url.path"].rsplit("/", 1)[1]) for span in arrived}
    assert max(held) < QUEUE_SIZE + BATCH_SIZE  # the newest ones were the ones dropped
    assert len({span["span_id"] for span in arrived}) == len(arrived)
    dropped = _agent_metrics(collector)["dropped"]
    assert dropped["rejected"] == 0
    assert len(arrived) + dropped["queue_full"] + dropped["network"] == sent_while_down
    assert QUEUE_SIZE <= len(arrived) <= QUEUE_SIZE + BATCH_SIZE
    assert dropped["queue_full"] > 0
