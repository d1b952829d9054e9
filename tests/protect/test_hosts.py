"""Targets of URLs and inputs: every reading of an authority, canonical hosts, ports, and the bare
``host[:port]`` form an input may take."""

from __future__ import annotations

import httpx
import pytest

from tracesec.protect.hosts import Target, authorities, canonical_host, input_targets, url_targets


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("LOCALHOST.", "localhost"),
        ("0x7F.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
        ("[::1]", "::1"),
        ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1"),
        ("%6c%6f%63%61%6c%68%6f%73%74", "localhost"),
        ("\uff11\uff12\uff17.0.0.1", "127.0.0.1"),  # full-width digits
        ("B\u00fccher.de", "xn--bcher-kva.de"),
        ("example.com", "example.com"),
    ],
)
def test_canonical_host(host: str, canonical: str) -> None:
    assert canonical_host(host) == canonical


def test_a_url_and_the_url_httpx_sends_have_the_same_targets() -> None:
    for url in (
        "http://LOCALHOST:80",
        "https://127.0.0.1:443/x",
        "http://0xA9FEA9FE",
        "HTTP://B\u00fccher.de/",
    ):
        assert url_targets(url) == url_targets(str(httpx.URL(url))), url


def test_both_readings_of_an_authority_are_kept() -> None:
    url = "http://127.1.1.1:80\\@127.2.2.2:81/"
    assert {(a.host, a.port) for a in authorities(url)} == {("127.2.2.2", 81), ("127.1.1.1", 80)}


@pytest.mark.parametrize(
    ("url", "port"),
    [("http://h/", 80), ("https://h", 443), ("wss://h", 443), ("http://h:8080/", 8080), ("//h/", None)],
)
def test_the_port_is_explicit_or_the_schemes_default(url: str, port: int | None) -> None:
    assert url_targets(url) == (Target("h", port),)


def test_urls_without_an_authority_have_no_target() -> None:
    assert url_targets("file:///etc/passwd") == ()
    assert url_targets("mailto:someone@example.com") == ()


@pytest.mark.parametrize(
    ("user_input", "targets"),
    [
        ("http://localhost:80", [Target("localhost", 80)]),
        ("localhost", [Target("localhost", None)]),
        ("localhost:6379", [Target("localhost", 6379)]),
        ("[::1]:8080", [Target("::1", 8080)]),
        ("127.1/admin", [Target("127.0.0.1", None)]),
        ("gopher://127.0.0.1:25/_x", [Target("127.0.0.1", 25)]),
        ("", []),
    ],
)
def test_an_input_names_a_target_as_a_url_or_a_bare_host(user_input: str, targets: list[Target]) -> None:
    assert input_targets(user_input) == targets


def test_a_target_without_a_port_reaches_every_port() -> None:
    assert Target("localhost", None).reaches(Target("localhost", 8080))
    assert Target("localhost", 80).reaches(Target("localhost", 80))
    assert not Target("localhost", 80).reaches(Target("localhost", 8080))
    assert not Target("localhost", None).reaches(Target("127.0.0.1", None))
