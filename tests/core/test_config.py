"""Settings: keyword overrides > TRACESEC_* environment > defaults; a bad value stops install() with a
ConfigError naming the variable and what it accepts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

import tracesec
from tracesec.agent import active
from tracesec.config import Config, ConfigError


def test_defaults_apply_without_environment_or_keywords() -> None:
    agent = tracesec.install()
    assert agent.config.mode == "monitor"
    assert agent.config.endpoint == "http://127.0.0.1:4319"
    assert agent.config.max_body_bytes == 16384
    assert agent.config.trusted_proxies == ()


def test_environment_beats_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRACESEC_MODE", "BLOCK")
    monkeypatch.setenv("TRACESEC_ENDPOINT", f"file://{tmp_path}/s.jsonl")
    monkeypatch.setenv("TRACESEC_MAX_BODY_BYTES", "100")
    monkeypatch.setenv("TRACESEC_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    monkeypatch.setenv("TRACESEC_CAPTURE_BODIES", "no")
    monkeypatch.setenv("TRACESEC_DISABLED_INTEGRATIONS", "Flask,django")
    config = tracesec.install().config
    assert config.mode == "block"
    assert config.endpoint == f"file://{tmp_path}/s.jsonl"
    assert config.max_body_bytes == 100
    assert config.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.1/32"),
    )
    assert config.capture_bodies is False
    assert config.disabled_integrations == frozenset({"flask", "django"})


def test_keywords_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACESEC_MODE", "block")
    monkeypatch.setenv("TRACESEC_MAX_BODY_BYTES", "100")
    monkeypatch.setenv("TRACESEC_SERVICE", "from-env")
    config = tracesec.install(mode="monitor", max_body_bytes=200, endpoint="console").config
    assert (config.mode, config.max_body_bytes, config.endpoint) == ("monitor", 200, "console")
    assert config.service == "from-env"  # not overridden: the environment still applies


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("TRACESEC_MODE", "protect", "monitor, block, off"),
        ("TRACESEC_MAX_BODY_BYTES", "-1", "a whole number from 0 to"),
        ("TRACESEC_MAX_BODY_BYTES", "lots", "a whole number from 0 to"),
        ("TRACESEC_QUEUE_SIZE", "1", "a whole number from 16 to"),
        ("TRACESEC_FLUSH_INTERVAL", "0", "a number from 0.01 to 3600"),
        ("TRACESEC_ENDPOINT", "ftp://example.com", "http(s)://host:port, file:///path.jsonl or console"),
        ("TRACESEC_ENDPOINT", "file://", "file:///path/to/spans.jsonl"),
        ("TRACESEC_TRUSTED_PROXIES", "10.0.0.0/33", "IP addresses or CIDR ranges"),
        ("TRACESEC_TRUSTED_PROXIES", "proxy.internal", "IP addresses or CIDR ranges"),
        ("TRACESEC_CAPTURE_BODIES", "maybe", "true or false"),
    ],
)
def test_invalid_environment_value_names_variable_and_accepted_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, accepted: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(tracesec.ConfigError) as raised:
        tracesec.install()
    message = str(raised.value)
    assert variable in message
    assert repr(value) in message
    assert accepted in message
    assert active() is None  # nothing half-installed


@pytest.mark.parametrize(
    ("keyword", "value", "accepted"),
    [
        ("mode", "loud", "monitor, block, off"),
        ("max_body_bytes", 10**9, "a whole number from 0 to"),
        ("batch_size", 0, "a whole number from 1 to"),
        ("endpoint", "localhost:4319", "http(s)://host:port"),
        ("trusted_proxies", ["10.0.0.1", "not-an-ip"], "IP addresses or CIDR ranges"),
    ],
)
def test_invalid_keyword_value_names_setting_and_accepted_values(
    keyword: str, value: object, accepted: str
) -> None:
    with pytest.raises(tracesec.ConfigError) as raised:
        tracesec.install(**{keyword: value})
    message = str(raised.value)
    assert f"install({keyword}=...)" in message  # the setting the caller passed
    assert accepted in message
    assert active() is None


def test_unknown_keyword_is_rejected_with_the_known_ones() -> None:
    with pytest.raises(tracesec.ConfigError) as raised:
        tracesec.install(max_body_size=10)
    assert "max_body_size" in str(raised.value)
    assert "max_body_bytes" in str(raised.value)  # the accepted names are listed
    assert active() is None


def test_typed_keywords_are_accepted() -> None:
    config = tracesec.install(
        capture_bodies=False, flush_interval=0.5, trusted_proxies=["10.0.0.0/8"], endpoint="console"
    ).config
    assert config.capture_bodies is False
    assert config.flush_interval == 0.5
    assert config.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)


def test_an_unknown_integration_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as refused:
        Config.load({"TRACESEC_DISABLED_INTEGRATIONS": "flask,flsk"})
    message = str(refused.value)
    assert "TRACESEC_DISABLED_INTEGRATIONS" in message
    assert "flask, httpx" in message
    assert Config.load({"TRACESEC_DISABLED_INTEGRATIONS": "Flask, sqlite3"}).disabled_integrations == {
        "flask",
        "sqlite3",
    }
