"""SSRF detector and the address helpers the socket hook will use. libc's getaddrinfo with
AI_NUMERICHOST is the oracle for what every odd IPv4 spelling really means."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from tracesec.protect import (
    detect_ssrf,
    is_internal_address,
    is_internal_host,
    is_metadata_address,
    parse_host_address,
)

SPELLINGS = [
    "127.0.0.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "127.1",
    "127.0.1",
    "0",
    "0251.254.169.254",
    "0xA9.0xFE.0xA9.0xFE",
    "3232235777",
    "8.8.8.8",
    "1.2.3",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_parse_host_address_agrees_with_libc(spelling: str) -> None:
    libc = socket.getaddrinfo(spelling, None, family=socket.AF_INET, flags=socket.AI_NUMERICHOST)[0][4][0]
    assert parse_host_address(spelling) == ipaddress.ip_address(libc)


@pytest.mark.parametrize(
    "text", ["example.com", "425.510.425.510", "0x41414141A9FEA9FE", "1.2.3.4.5", "08.0.0.1", ""]
)
def test_non_addresses_parse_to_none(text: str) -> None:
    assert parse_host_address(text) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.31.255.255",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "::",
        "::1",
        "[::1]",
        "fc00::1",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",
        "[0:0:0:0:0:ffff:7f00:1]",
        "::ffff:a9fe:a9fe",
        "2130706433",
    ],
)
def test_internal_addresses(address: str) -> None:
    assert is_internal_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "172.32.0.1", "100.128.0.1", "not-an-ip"]
)
def test_public_addresses(address: str) -> None:
    assert not is_internal_address(address)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "0xa9fea9fe", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"]
)
def test_metadata_addresses(address: str) -> None:
    assert is_metadata_address(address)
    assert is_internal_address(address)


def test_ordinary_private_address_is_not_metadata() -> None:
    assert not is_metadata_address("10.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/admin",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1:8080/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[0:0:0:0:0:ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata.google.internal./computeMetadata/v1/",
        "http://localhost:6379/",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://user:pass@10.0.0.5/",
        "http://127.1.1.1:80\\@example.com/",  # a WHATWG parser connects to 127.1.1.1
        "gopher://127.0.0.1:6379/_INFO",
        "http://%31%32%37.0.0.1/",
    ],
)
def test_user_supplied_internal_urls_are_flagged(url: str) -> None:
    assert detect_ssrf(url, url)


def test_user_supplies_only_the_host() -> None:
    assert detect_ssrf("https://127.0.0.1:8443/api/v1/items", "127.0.0.1")


@pytest.mark.parametrize(
    ("url", "user_input"),
    [
        ("https://api.example.com/fetch?url=http://127.0.0.1/", "http://127.0.0.1/"),  # only in the query
        ("https://api.example.com/users/localhost", "localhost"),  # only in the path
        ("http://127.0.0.1:8080/internal", "internal"),  # app's own host, user chose the path
        ("https://example.com/", "https://example.com/"),  # user chose a public host
        ("http://localhost/", "not in the url"),
        ("http://localhost/", ""),
        ("file:///etc/passwd", "file:///etc/passwd"),  # no host: a file-access question, not SSRF
    ],
)
def test_not_flagged(url: str, user_input: str) -> None:
    assert not detect_ssrf(url, user_input)


@pytest.mark.parametrize(
    "user_input",
    [
        "http://localhost:80",
        "https://127.0.0.1:443",
        "http://0xA9.0xFE.0xA9.0xFE",
        "http://0xA9FEA9FE",
        "http://127.1.1.1:80\\@127.2.2.2:80/",
        "http://127.1.1.1:80:\\@@127.2.2.2:80/",
        "http://LOCALHOST./admin",
    ],
)
def test_urls_the_client_rewrote_are_compared_by_target(user_input: str) -> None:
    """httpx drops a default port, lower-cases the host and escapes what it must before the sink sees the
    URL: the input is no longer in it as text, but still names its host."""
    sent = str(httpx.URL(user_input))
    assert user_input not in sent
    assert detect_ssrf(sent, user_input)


@pytest.mark.parametrize(
    ("url", "user_input"),
    [
        ("http://localhost/", "http://localhost:6379"),  # another port of the same host
        ("http://localhost:8080/api", "localhost:9090"),
        ("http://127.0.0.1/", "http://127.0.0.2/"),
        ("https://api.example.com/v1?next=http%3A%2F%2F127.0.0.1%2F", "http://127.0.0.1/"),
    ],
)
def test_targets_that_differ_are_not_flagged(url: str, user_input: str) -> None:
    assert not detect_ssrf(url, user_input)


def test_a_bare_host_input_names_the_host_at_any_port() -> None:
    assert detect_ssrf("http://localhost:8080/status", "LOCALHOST.")
    assert detect_ssrf("//127.0.0.1:22/", "0x7f.1:22")


def test_resolved_addresses_catch_rebinding_names() -> None:
    url = "http://rebind.attacker.example/"
    assert detect_ssrf(url, url, resolved_ips=["93.184.216.34", "127.0.0.1"])
    assert not detect_ssrf(url, url, resolved_ips=["93.184.216.34"])
    # Internal resolution alone is not enough: the user must control the host.
    assert not detect_ssrf("http://intranet.corp/", "other", resolved_ips=["10.0.0.1"])


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1.", "[::1]", "metadata", "%6c%6f%63%61%6c%68%6f%73%74"]
)
def test_is_internal_host(host: str) -> None:
    assert is_internal_host(host)
