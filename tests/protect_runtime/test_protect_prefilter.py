"""The outbound pre-filter: a check whose URL or connection no input of the request can name returns
before any host is parsed, and every input that may name it (by text, by another spelling of an
address, by case or IDNA, with a port, through a redirect) still reaches the detector."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, request

import tracesec
from tests.support.clients import wsgi_client
from tracesec.hooks import check_sink
from tracesec.protect import sinks
from tracesec.protect.sinks import may_hold_address

Sink = Callable[[str], None]


def _request_phase(url: str) -> None:
    check_sink("outbound", url, {"phase": "request", "method": "GET", "sink": "httpx.Client.send"})


def _connect(host: str, addresses: list[str], call_url: str | None) -> None:
    details = {"phase": "connect", "port": 80, "addresses": addresses, "call_url": call_url}
    check_sink("outbound", host, details)


def _app(sink: Sink) -> httpx.Client:
    """An app whose ``q`` parameter is an input of the request; ``sink`` makes the outbound call."""
    app = Flask("prefilter")

    @app.get("/call")
    def call() -> str:
        sink(request.args["q"])
        return "called"

    return wsgi_client(app)


@pytest.fixture
def events_path(clean_tracesec: None, tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    tracesec.install(endpoint=f"file://{path}", mode="block", behavior=False, discovery=False)
    return path


@pytest.mark.parametrize(
    ("user_input", "url"),
    [
        ("0x7f.1", "http://127.0.0.1/"),  # another spelling of the address
        ("2130706433", "http://127.0.0.1/"),
        ("[::1]", "http://[0:0:0:0:0:0:0:1]/"),
        ("LOCALHOST", "http://localhost/"),  # re-cased by the client
        ("bücher.localhost", "http://xn--bcher-kva.localhost/"),  # IDNA-encoded by the client
        ("localhost:6379", "http://localhost:6379/"),  # host:port
        ("%6cocalhost", "http://localhost/"),  # percent-escapes decoded before the call
        ("http://127.0.0.1:80/admin", "http://127.0.0.1/admin"),  # default port dropped
        ("1", "http://1.localhost/"),  # part of an internal name
    ],
)
def test_inputs_that_may_name_the_host_still_reach_the_detector(
    events_path: Path, user_input: str, url: str
) -> None:
    client = _app(lambda _: _request_phase(url))
    assert client.get("/call", params={"q": user_input}).status_code == 403


def test_an_input_naming_the_host_a_redirect_leads_to_is_caught_at_connect(events_path: Path) -> None:
    client = _app(lambda _: _connect("127.0.0.1", ["127.0.0.1"], "https://api.example.com/start"))
    assert client.get("/call", params={"q": "127.1"}).status_code == 403


def test_an_input_chosen_url_redirected_inside_is_caught_at_connect(events_path: Path) -> None:
    client = _app(lambda q: _connect("intranet.example", ["10.0.0.7"], q))
    assert client.get("/call", params={"q": "https://public.example/x"}).status_code == 403


def test_an_input_chosen_name_resolving_inside_is_caught_at_connect(events_path: Path) -> None:
    client = _app(lambda q: _connect(q, ["127.0.0.1"], None))
    assert client.get("/call", params={"q": "rebind.example"}).status_code == 403


def test_a_check_no_input_can_name_parses_nothing(events_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def parsed(*_: Any) -> Any:
        raise AssertionError("the host was parsed")

    monkeypatch.setattr(sinks, "url_targets", parsed)
    monkeypatch.setattr(sinks, "canonical_host", parsed)

    def calls(_: str) -> None:
        _request_phase("https://api.example.com/v1/users/3/orders?page=3")
        _connect("api.example.com", ["93.184.215.14"], "https://api.example.com/v1/users/3/orders?page=3")

    client = _app(calls)
    for user_input in ("3", "abc123", "Smith, John", "dark", "Müller", "[::1]"):
        assert client.get("/call", params={"q": user_input}).status_code == 200


def test_metadata_is_flagged_whatever_the_inputs(events_path: Path) -> None:
    client = _app(lambda _: _connect("169.254.169.254", ["169.254.169.254"], None))
    assert client.get("/call", params={"q": "unrelated"}).status_code == 200
    tracesec.uninstall()  # flushes the exporter
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    reasons = [e["attributes"].get("tracesec.ssrf.reason") for e in events if e.get("type") == "ssrf"]
    assert reasons == ["metadata_endpoint"]


@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        ("api.example.com", False),
        ("api.example.com:8080", False),
        ("user:pass@api.example.com", False),
        ("127.0.0.1", True),
        ("0x7f.1:80", True),
        ("2130706433", True),
        ("[::1]:80", True),
        ("evil.example@127.1", True),
        ("127.1.1.1\\@evil.example", True),  # the backslash reading's host
        ("abc123", True),  # made of address characters: the full path decides
    ],
)
def test_may_hold_address(authority: str, expected: bool) -> None:
    assert may_hold_address(authority) is expected
