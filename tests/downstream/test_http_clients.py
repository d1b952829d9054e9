"""HTTP-client spans against a real loopback server: one span per logical call whichever client (and
whichever clients it sits on), redaction, traceparent per hop and host policy, sink checks."""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import urllib3

from tests.downstream.conftest import Peer, Traced
from tracesec.events import Blocked
from tracesec.spans import format_span_id, format_trace_id, parse_traceparent


def _httpx(url: str) -> int:
    with httpx.Client(follow_redirects=True) as client:
        return client.get(url).status_code


def _httpx_async(url: str) -> int:
    async def call() -> int:
        async with httpx.AsyncClient(follow_redirects=True) as client:
            return (await client.get(url)).status_code

    return asyncio.run(call())


def _requests(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def _urllib3(url: str) -> int:
    return urllib3.PoolManager().request("GET", url).status


def _urllib(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


CLIENTS: dict[str, Callable[[str], int]] = {
    "httpx": _httpx,
    "httpx-async": _httpx_async,
    "requests": _requests,
    "urllib3": _urllib3,
    "urllib": _urllib,
}
CLIENT_SINKS = {
    "httpx": "httpx.Client.send",
    "httpx-async": "httpx.AsyncClient.send",
    "requests": "requests.Session.send",
    "urllib3": "urllib3.PoolManager.urlopen",
    "urllib": "urllib.request.OpenerDirector.open",
}


@pytest.mark.parametrize("client", CLIENTS)
def test_one_child_span_per_call_with_traceparent(
    traced: Callable[..., Traced], peer: Peer, client: str
) -> None:
    agent = traced()
    url = peer.url("/status/201?token=s3cret&page=2")
    if client != "urllib":  # urllib.request takes no credentials in the URL
        url = url.replace("//", "//user:pw@", 1)
    with agent.request() as ctx:
        status = CLIENTS[client](url)
        server_trace, server_span = ctx.trace_id, ctx.span_id
        assert ("http", f"127.0.0.1:{peer.port}") in ctx.downstream
    assert status == 201
    span = agent.client_span()
    attributes = span["attributes"]
    assert span["trace_id"] == format_trace_id(server_trace)
    assert span["parent_span_id"] == format_span_id(server_span)
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 201
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == peer.port
    assert attributes["http.response.body.size"] > 0
    assert "s3cret" not in attributes["url.full"] and "pw@" not in attributes["url.full"]
    assert "page=2" in attributes["url.full"]
    assert span["status"] == "unset"
    [received] = peer.received
    assert parse_traceparent(received["traceparent"]) == (server_trace, int(span["span_id"], 16), True)
    [request_check] = [c for c in agent.checks("outbound") if c.details["phase"] == "request"]
    assert request_check.details["method"] == "GET" and request_check.in_request
    assert request_check.details["sink"] == CLIENT_SINKS[client]


@pytest.mark.parametrize("client", CLIENTS)
def test_redirects_stay_one_call_and_each_hop_obeys_the_host_policy(
    traced: Callable[..., Traced], peer: Peer, client: str
) -> None:
    agent = traced(traceparent_allow_hosts="127.0.0.1")
    target = peer.url("/status/200", host="localhost")
    with agent.request():
        assert CLIENTS[client](peer.url(f"/redirect?to={target}")) == 200
    span = agent.client_span()
    assert span["attributes"]["http.response.status_code"] == 200
    first, second = peer.received
    assert first["traceparent"] is not None, "127.0.0.1 is allowed"
    assert second["traceparent"] is None, "localhost is not on the allow list"
    request_checks = [c for c in agent.checks("outbound") if c.details["phase"] == "request"]
    assert len(request_checks) == 1
    connect_checks = [c for c in agent.checks("outbound") if c.details["phase"] == "connect" and c.in_request]
    assert {c.value for c in connect_checks} >= {"localhost"} or client == "httpx-async"
    assert all(c.details["call_url"] == request_checks[0].value for c in connect_checks)


def test_denied_host_gets_no_traceparent_but_the_call_is_still_traced(
    traced: Callable[..., Traced], peer: Peer
) -> None:
    agent = traced(traceparent_deny_hosts="*.example.com,127.0.0.1")
    with agent.request():
        requests.get(peer.url("/status/200"), timeout=10)
    assert agent.client_span()["attributes"]["http.response.status_code"] == 200
    assert peer.received[0]["traceparent"] is None


def test_a_traceparent_set_by_the_caller_is_kept(traced: Callable[..., Traced], peer: Peer) -> None:
    agent = traced()
    theirs = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with agent.request():
        requests.get(peer.url("/status/200"), headers={"traceparent": theirs}, timeout=10)
        httpx.get(peer.url("/status/200"), headers={"traceparent": theirs})
    assert [r["traceparent"] for r in peer.received] == [theirs, theirs]


def test_error_statuses_and_failures_mark_the_span(traced: Callable[..., Traced], peer: Peer) -> None:
    agent = traced()
    with agent.request():
        assert _urllib(peer.url("/status/503")) == 503
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{_closed_port()}/", timeout=10)
    failed_status, refused = agent.client_spans()
    assert failed_status["status"] == "error"
    assert failed_status["attributes"]["http.response.status_code"] == 503
    assert refused["status"] == "error"
    assert refused["attributes"]["error.type"] == "ConnectionError"


def _closed_port() -> int:
    from tests.support.servers import free_port

    return free_port()


def test_raw_http_client_connection_is_one_call(traced: Callable[..., Traced], peer: Peer) -> None:
    agent = traced()
    with agent.request() as ctx:
        connection = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=10)
        connection.request("POST", "/status/202", body=b"12345")
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        trace_id = ctx.trace_id
    span = agent.client_span()
    assert span["attributes"]["http.response.status_code"] == 202
    assert span["attributes"]["http.request.method"] == "POST"
    assert body["body_size"] == 5
    assert parse_traceparent(body["traceparent"]) == (trace_id, int(span["span_id"], 16), True)


def test_outside_a_request_nothing_is_recorded_but_sinks_are_checked(
    traced: Callable[..., Traced], peer: Peer
) -> None:
    agent = traced()
    httpx.get(peer.url("/status/200"))
    requests.get(peer.url("/status/200"), timeout=10)
    assert agent.client_spans() == []
    assert [r["traceparent"] for r in peer.received] == [None, None]
    assert len([c for c in agent.checks("outbound") if c.details["phase"] == "request"]) == 2


def test_outside_a_request_spans_are_roots_when_configured(traced: Callable[..., Traced], peer: Peer) -> None:
    agent = traced(spans_outside_requests=True)
    requests.get(peer.url("/status/200"), timeout=10)
    span = agent.client_span()
    assert span["parent_span_id"] is None
    assert parse_traceparent(peer.received[0]["traceparent"]) == (
        int(span["trace_id"], 16),
        int(span["span_id"], 16),
        True,
    )


@pytest.mark.parametrize("client", CLIENTS)
def test_a_blocked_call_is_never_sent(traced: Callable[..., Traced], peer: Peer, client: str) -> None:
    agent = traced()
    agent.block.add("outbound")
    with agent.request(), pytest.raises(Blocked):
        CLIENTS[client](peer.url("/status/200"))
    assert peer.hits == 0
    assert agent.client_spans() == []


def test_connect_check_sees_resolved_addresses_and_the_call(
    traced: Callable[..., Traced], peer: Peer
) -> None:
    agent = traced()
    url = peer.url("/status/200", host="localhost")
    with agent.request():
        requests.get(url, timeout=10)
        _httpx_async(url)
    connects = [c for c in agent.checks("outbound") if c.details["phase"] == "connect" and c.in_request]
    assert len(connects) == 2
    for check in connects:
        assert check.value == "localhost"
        assert check.details["port"] == peer.port
        assert "127.0.0.1" in check.details["addresses"] or "::1" in check.details["addresses"]
        assert check.details["call_url"] == url


def test_exporter_thread_is_not_instrumented(traced: Callable[..., Traced], peer: Peer) -> None:
    from tracesec.context import _suppressed

    agent = traced()
    token = _suppressed.set(True)
    try:
        with agent.request():
            requests.get(peer.url("/status/200"), timeout=10)
    finally:
        _suppressed.reset(token)
    assert agent.client_spans() == []
    assert agent.checks("outbound") == []


def test_uninstall_restores_the_clients(traced: Callable[..., Traced]) -> None:
    originals: dict[str, Any] = {
        "httpx": httpx.Client.send,
        "requests": requests.Session.send,
        "http.client": http.client.HTTPConnection.endheaders,
    }
    traced()
    assert requests.Session.send is not originals["requests"]
    import tracesec

    tracesec.uninstall()
    assert httpx.Client.send is originals["httpx"]
    assert requests.Session.send is originals["requests"]
    assert http.client.HTTPConnection.endheaders is originals["http.client"]
