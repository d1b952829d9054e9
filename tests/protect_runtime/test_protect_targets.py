"""The runtime's outbound and path checks compare what the sink really uses with the input in normal
form: a URL the client rewrote, a connection to the host an input names, an allow-listed host:port, a
path the app normalised, an escape Werkzeug kept as text. Nothing here sends a packet off loopback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, request

import tracesec
from tests.protect_runtime.conftest import Protected
from tests.support.clients import wsgi_client
from tracesec.config import Config, ConfigError
from tracesec.hooks import check_sink


def _request_phase(url: str) -> None:
    check_sink("outbound", url, {"phase": "request", "method": "GET", "sink": "httpx.Client.send"})


def _connect_phase(host: str, port: int, call_url: str | None) -> None:
    details = {"phase": "connect", "port": port, "addresses": ["127.0.0.1"], "call_url": call_url}
    check_sink("outbound", host, details)


def _app(sink: Callable[[str], None]) -> httpx.Client:
    """An app that hands its ``url`` parameter to ``sink`` inside a request."""
    app = Flask("targets")

    @app.get("/call")
    def call() -> str:
        sink(request.args["url"])
        return "called"

    return wsgi_client(app)


@pytest.fixture
def blocking_agent(clean_tracesec: None, tmp_path: Path) -> Callable[..., None]:
    def install(**settings: Any) -> None:
        tracesec.install(
            endpoint=f"file://{tmp_path / 'events.jsonl'}", mode="block", behavior=False, **settings
        )

    return install


@pytest.mark.parametrize("user_input", ["http://localhost:80", "HTTP://0x7F.1:80/", "https://127.0.0.1:443"])
def test_the_url_the_client_rewrote_is_still_traced_to_the_input(
    blocking_agent: Callable[..., None], user_input: str
) -> None:
    blocking_agent()
    client = _app(lambda url: _request_phase(str(httpx.URL(url))))
    assert client.get("/call", params={"url": user_input}).status_code == 403


def test_the_connection_to_the_host_an_input_names_is_checked_after_a_redirect(
    blocking_agent: Callable[..., None],
) -> None:
    """The app calls a fixed partner URL that redirects wherever the input says: the input is not in the
    call's URL host, but it names the host the client then connects to."""
    blocking_agent()
    partner = "https://partner.example/redirect?to=elsewhere"
    client = _app(lambda url: _connect_phase(httpx.URL(url).host, 6379, partner))
    assert client.get("/call", params={"url": "http://127.0.0.1:6379/"}).status_code == 403
    assert client.get("/call", params={"url": "http://127.0.0.1:6380/"}).text == "called"  # other port


def test_a_raw_connection_to_a_host_partly_chosen_by_an_input_is_checked(
    blocking_agent: Callable[..., None],
) -> None:
    blocking_agent()
    client = _app(lambda tenant: _connect_phase(f"{tenant}.internal.example", 5432, None))
    assert client.get("/call", params={"url": "billing"}).status_code == 403  # resolves to 127.0.0.1


def test_an_allow_listed_host_and_port_leaves_the_other_ports_protected(
    blocking_agent: Callable[..., None],
) -> None:
    blocking_agent(protect_allow_hosts="127.0.0.1:8080,[::1]:9000")

    def sink(url: str) -> None:
        _request_phase(url)
        target = httpx.URL(url)
        _connect_phase(target.host, target.port or 80, url)

    client = _app(sink)
    assert client.get("/call", params={"url": "http://127.0.0.1:8080/api"}).text == "called"
    assert client.get("/call", params={"url": "http://0x7f.0.0.1:8080/api"}).text == "called"
    assert client.get("/call", params={"url": "http://[::1]:9000/"}).text == "called"
    assert client.get("/call", params={"url": "http://127.0.0.1:6379/"}).status_code == 403
    assert client.get("/call", params={"url": "http://127.0.0.1/"}).status_code == 403


def test_an_allow_listed_host_must_hold_on_every_reading_of_the_url(
    blocking_agent: Callable[..., None],
) -> None:
    blocking_agent(protect_allow_hosts="localhost")
    client = _app(_request_phase)
    assert client.get("/call", params={"url": "http://localhost/"}).text == "called"
    tricky = "http://localhost:80\\@127.0.0.2/"  # a WHATWG parser reads localhost, RFC 3986 127.0.0.2
    assert client.get("/call", params={"url": tricky}).status_code == 403


@pytest.mark.parametrize(
    ("route", "raw_query"),
    [
        ("/files", "name=/%c0%2e%c0%2e/etc/hostname"),  # Werkzeug keeps %C0 as text: /%C0.%C0./etc/hostname
        ("/files", "name=..%c0%af/../../../../../../../../../../../../etc/hostname%00"),
        ("/files-pathlib", "name=" + "..//" * 16 + "etc/hostname"),  # pathlib collapses the '//'
        ("/files-pathlib", "name=" + "./../" * 16 + "etc/"),  # and drops '.' and the trailing '/'
    ],
)
def test_paths_as_werkzeug_and_pathlib_make_them_are_blocked(
    blocking: Protected, route: str, raw_query: str
) -> None:
    response = blocking.client.get(
        httpx.URL(blocking.server.url).copy_with(raw_path=f"{route}?{raw_query}".encode())
    )
    assert response.status_code == 403 and response.json()["reason"] == "path_traversal"


@pytest.mark.skipif(os.sep != "/", reason="a backslash separates on Windows")
def test_backslash_names_stay_in_their_folder_on_posix(blocking: Protected) -> None:
    response = blocking.get("/files", params={"name": "..\\..\\etc\\hostname"})
    assert response.status_code == 404  # no such file in the folder, and nothing blocked


@pytest.mark.parametrize("entries", ["api:0", "api:", "api:65536", "api:http", "[::1]:"])
def test_an_allow_listed_port_must_be_a_port(entries: str) -> None:
    with pytest.raises(ConfigError, match="TRACESEC_PROTECT_ALLOW_HOSTS"):
        Config.load(environ={"TRACESEC_PROTECT_ALLOW_HOSTS": entries})


def test_allow_listed_hosts_take_names_ports_and_ipv6() -> None:
    entries = "Billing.Internal, 127.0.0.1:8080, [::1]:9000, fe80::1"
    allowed = Config.load(environ={"TRACESEC_PROTECT_ALLOW_HOSTS": entries}).protect_allow_hosts
    assert allowed == {"billing.internal", "127.0.0.1:8080", "[::1]:9000", "fe80::1"}
