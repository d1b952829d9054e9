"""SSRF at the outgoing-request sinks: a URL from the input naming an internal host, a name that resolves
to an internal address (checked at connect time, DNS rebinding), a redirect from an allowed host to an
internal one, and cloud metadata endpoints whatever the input. Every target here is on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import tracesec
from tests.protect_runtime.conftest import Protected, protected_app, security_events
from tests.support.clients import wsgi_client
from tests.support.records import wait_for_records
from tracesec.hooks import check_sink
from tracesec.protect import is_internal_address, is_internal_host


def _loopback_name() -> str | None:
    """This machine's host name when it resolves to an internal address without being a known
    internal name: the same situation as a DNS answer rebound to 127.0.0.1."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        return None
    if is_internal_host(name) or not addresses or not all(is_internal_address(a) for a in addresses):
        return None
    return name


REBOUND_NAME = _loopback_name()
needs_rebound_name = pytest.mark.skipif(
    REBOUND_NAME is None, reason="this machine's host name does not resolve to an internal address"
)


def test_input_url_naming_loopback_is_blocked_before_any_request(blocking: Protected) -> None:
    target = f"http://127.0.0.1:{blocking.server.port}/echo"
    response = blocking.get("/fetch", params={"url": target})
    assert response.status_code == 403 and response.json()["reason"] == "ssrf"
    event = blocking.event(response.json()["event_id"])
    assert event["attributes"]["tracesec.ssrf.reason"] == "internal_host"
    assert event["attributes"]["tracesec.sink"] == "httpx.Client.send"
    assert event["attributes"]["tracesec.input.path"] == "query.url"
    assert blocking.get("/fetch-safe", params={"q": "http://127.0.0.1:1/"}).json()["status"] == 200


@needs_rebound_name
@pytest.mark.parametrize("mode", ["monitor", "block"])
def test_name_resolving_to_loopback_is_caught_at_connect(tmp_path: Path, mode: str) -> None:
    with protected_app(tmp_path, mode=mode) as served:
        response = served.get("/fetch", params={"url": f"http://{REBOUND_NAME}:{served.server.port}/echo"})
        [event] = served.events(1, type="ssrf")
        attributes = event["attributes"]
        assert attributes["tracesec.ssrf.reason"] == "resolved_address"
        assert attributes["tracesec.sink"] == "socket.getaddrinfo"
        assert attributes["server.address"] == REBOUND_NAME
        assert all(is_internal_address(a) for a in attributes["tracesec.ssrf.addresses"])
        if mode == "block":
            assert response.status_code == 403 and response.json()["event_id"] == event["event_id"]
        else:
            assert response.json()["status"] == 200  # monitor mode: the call went through


def test_redirect_from_an_allowed_host_to_an_internal_one_is_blocked(tmp_path: Path) -> None:
    with protected_app(tmp_path, mode="block", protect_allow_hosts="localhost") as served:
        port = served.server.port
        allowed = f"http://localhost:{port}/echo"
        assert served.get("/fetch", params={"url": allowed}).json()["status"] == 200
        hop = f"http://localhost:{port}/redirect?to=http://127.0.0.1:{port}/echo"
        response = served.get("/fetch", params={"url": hop})
        assert response.status_code == 403
        event = served.event(response.json()["event_id"])
        assert event["attributes"]["tracesec.ssrf.reason"] == "redirect"
        assert event["attributes"]["server.address"] == "127.0.0.1"


# The metadata checks are driven through the hook bus with the facts the socket integration reports at
# connect time: nothing here may send a packet to a metadata address, even one that would not answer.


def _connect(host: str, addresses: list[str]) -> None:
    check_sink("outbound", host, {"phase": "connect", "port": 80, "addresses": addresses, "call_url": None})


@pytest.fixture
def agent_events(clean_tracesec: None, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "events.jsonl"
    tracesec.install(endpoint=f"file://{path}", flush_interval=0.05, mode="block", behavior=False)
    yield path


def _exported(path: Path, count: int) -> list[dict[str, Any]]:
    return wait_for_records(path, lambda found: len(found) >= count, select=security_events)


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"])
def test_metadata_address_without_input_or_request_is_reported_not_blocked(
    agent_events: Path, address: str
) -> None:
    _connect(address, [address])  # outside any request, no Blocked: an SDK fetching credentials
    [event] = _exported(agent_events, 1)
    assert event["type"] == "ssrf" and event["blocked"] is False and event["severity"] == "medium"
    assert event["attributes"]["tracesec.ssrf.reason"] == "metadata_endpoint"
    assert event["attributes"]["server.address"] == address


def test_other_name_resolving_to_metadata_is_blocked_in_a_request(agent_events: Path) -> None:
    app = Flask("metadata")

    @app.get("/hook")
    def hook() -> str:
        _connect("hooks.example.test", ["169.254.169.254"])
        return "connected"

    @app.get("/ordinary")
    def ordinary() -> str:
        _connect("api.example.test", ["93.184.215.14"])
        return "connected"

    client = wsgi_client(app)
    assert client.get("/ordinary").text == "connected"
    response = client.get("/hook")
    assert response.status_code == 403
    [event] = _exported(agent_events, 1)
    assert event["event_id"] == response.json()["event_id"]
    assert event["attributes"]["tracesec.ssrf.reason"] == "metadata_via_dns"
    assert event["attributes"]["http.route"] == "/hook"
