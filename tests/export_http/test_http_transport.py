"""HttpTransport against a real collector process, and against a scripted server for the answers a
collector does not give on demand."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any

import httpx
import pytest
from scripted_server import Answer, Received, scripted_server

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess, free_port
from tracesec.collector.samples import sample_batch
from tracesec.export.http import HttpTransport
from tracesec.export.transport import ExportError

ACCEPTED = (202, {}, b'{"accepted": {"spans": 0, "events": 0}, "duplicate": false, "blocklist": []}')


def _stored_span_ids(collector: CollectorProcess) -> list[str]:
    reply = httpx.get(collector.url + "/v1/spans", params={"limit": 1000}, headers=collector.headers)
    return [span["span_id"] for span in reply.json()["spans"]]


def _span_ids(*batches: dict[str, Any]) -> list[str]:
    return sorted(span["span_id"] for batch in batches for span in batch["spans"])


def test_delivers_a_batch_and_returns_the_reply(collector: CollectorProcess) -> None:
    transport = HttpTransport(collector.url, API_KEY, timeout=10, retry_max_time=5)
    batch = sample_batch(spans=12, events=1)
    try:
        reply = transport.send(batch)
    finally:
        transport.close()
    assert reply == {"accepted": {"spans": 12, "events": 1}, "duplicate": False, "blocklist": []}
    assert sorted(_stored_span_ids(collector)) == _span_ids(batch)


def test_sends_gzip_json_with_the_bearer_key() -> None:
    with scripted_server(lambda received: ACCEPTED) as server:
        transport = HttpTransport(server.url + "/", "secret", retry_max_time=5)
        batch = sample_batch(spans=3)
        transport.send(batch)
        transport.close()
    (request,) = server.received
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer secret"
    assert json.loads(request.body) == batch


def test_retries_until_the_collector_is_back(
    collector: CollectorProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tracesec")
    transport = HttpTransport(collector.url, API_KEY, timeout=5, retry_max_time=120)
    first, second = sample_batch(spans=5), sample_batch(spans=6)
    transport.send(first)
    collector.kill()
    outcome: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: outcome.update(reply=transport.send(second)))
    sender.start()
    for _ in range(400):
        if any("retrying" in record.getMessage() for record in caplog.records):
            break
        time.sleep(0.025)
    else:
        raise AssertionError("no failed attempt was logged while the collector was down")
    collector.start()  # same port, same database
    sender.join(60)
    transport.close()
    assert not sender.is_alive()
    assert outcome["reply"]["accepted"] == {"spans": 6, "events": 0}
    assert sorted(_stored_span_ids(collector)) == _span_ids(first, second)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_overload_and_gateway_errors_are_retried(status: int) -> None:
    def answer(received: list[Received]) -> Answer:
        return (status, {}, b'{"error": "busy"}') if len(received) == 1 else ACCEPTED

    with scripted_server(answer) as server:
        transport = HttpTransport(server.url, retry_max_time=30)
        assert transport.send(sample_batch(spans=1)) is not None
        transport.close()
    assert len(server.received) == 2
    assert server.received[0].body == server.received[1].body


def test_retry_after_is_honoured() -> None:
    """The server refuses (for good) a retry that comes back before the Retry-After it asked for."""

    def answer(received: list[Received]) -> Answer:
        if len(received) == 1:
            return 429, {"retry-after": "1"}, b'{"error": "slow down"}'
        if received[-1].at < received[0].at + 1.0:
            return 400, {}, b'{"error": "came back before Retry-After"}'
        return ACCEPTED

    with scripted_server(answer) as server:
        transport = HttpTransport(server.url, retry_max_time=30)
        transport.send(sample_batch(spans=1))
        transport.close()
    assert len(server.received) == 2


def test_a_retry_after_beyond_the_retry_budget_gives_up_at_once() -> None:
    with scripted_server(lambda received: (503, {"retry-after": "3600"}, b'{"error": "down"}')) as server:
        transport = HttpTransport(server.url, retry_max_time=20)
        with pytest.raises(ExportError) as caught:
            transport.send(sample_batch(spans=1))
        transport.close()
    assert caught.value.reason == "network"
    assert "503 down" in str(caught.value)
    assert len(server.received) == 1


def test_401_is_rejected_without_retrying(collector: CollectorProcess) -> None:
    transport = HttpTransport(collector.url, "wrong-key", retry_max_time=30)
    with pytest.raises(ExportError) as caught:
        transport.send(sample_batch(spans=1))
    transport.close()
    assert caught.value.reason == "rejected"
    assert "401" in str(caught.value)
    assert "API key" in str(caught.value)
    with scripted_server(lambda received: (401, {}, b'{"error": "no"}')) as server:
        transport = HttpTransport(server.url, "wrong-key", retry_max_time=30)
        with pytest.raises(ExportError):
            transport.send(sample_batch(spans=1))
        transport.close()
    assert len(server.received) == 1


def test_a_malformed_batch_is_rejected_with_the_collectors_message(collector: CollectorProcess) -> None:
    batch = sample_batch(spans=2)
    batch["spans"][1]["kind"] = "consumer"
    transport = HttpTransport(collector.url, API_KEY, retry_max_time=30)
    with pytest.raises(ExportError) as caught:
        transport.send(batch)
    transport.close()
    assert caught.value.reason == "rejected"
    assert "spans[1].kind" in str(caught.value)


def test_unreachable_service_is_a_network_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tracesec")
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", retry_max_time=1)
    with pytest.raises(ExportError) as caught:
        transport.send(sample_batch(spans=1))
    transport.close()
    assert caught.value.reason == "network"
    assert "cannot reach" in str(caught.value)
    assert any("retrying" in record.getMessage() for record in caplog.records)


def test_close_ends_a_retry_in_progress() -> None:
    with scripted_server(lambda received: (503, {"retry-after": "5"}, b"{}")) as server:
        transport = HttpTransport(server.url, retry_max_time=600)
        outcome: dict[str, BaseException] = {}

        def send() -> None:
            try:
                transport.send(sample_batch(spans=1))
            except ExportError as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        for _ in range(400):
            if server.received:
                break
            time.sleep(0.025)
        transport.close()
        sender.join(10)
    assert not sender.is_alive()
    assert "closed" in str(outcome["error"])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_uses_its_own_connection(collector: CollectorProcess) -> None:
    transport = HttpTransport(collector.url, API_KEY, retry_max_time=10)
    before, in_child, after = (sample_batch(spans=2) for _ in range(3))
    transport.send(before)  # the parent now holds a kept-alive connection
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (runs in the child)
        code = 1
        try:
            code = 0 if transport.send(in_child) is not None else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    transport.send(after)
    transport.close()
    assert sorted(_stored_span_ids(collector)) == _span_ids(before, in_child, after)
