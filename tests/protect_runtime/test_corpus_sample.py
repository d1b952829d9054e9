"""A deterministic sample of the server-level corpus run (benchmarks/corpus_server.py), and first the
sandbox it relies on: in monitor mode tracesec lets every attack through, so each one must be stopped by
the sandbox below the sink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.corpus import BENIGN, read_payloads
from benchmarks.corpus_server import Figures, ServerRun, figures, read_record, run, sandboxed_app

SAMPLE = 25
DETECTION_TARGET = 0.99
_PATHS = [p.replace("{FILE}", "etc/passwd") for p in read_payloads("traversal.txt", "file-inclusion.txt")]
EXTRAS = {
    "path": [p for p in _PATHS if "\\" in p][:SAMPLE],
    "SSRF": [p for p in read_payloads("ssrf-urls.txt") if "127.0.0.1" in p][:SAMPLE],
}
"""Payloads every sample holds, whatever the draw: names with backslashes (a plain file name on POSIX,
kept in its folder by the safe route; traversal only on a Windows reading), and URLs naming the safe
route's own upstream host, 127.0.0.1, on other ports (its port alone is allow-listed)."""


def test_the_sandbox_stops_what_a_monitor_mode_app_lets_through(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with (
        sandboxed_app(tmp_path / "app", mode="monitor") as (url, record),
        httpx.Client(base_url=url) as client,
    ):

        def get(path: str, **params: str) -> httpx.Response:
            return client.get(path, params=params)

        assert get("/list", dir=f".; touch {marker}").status_code == 500
        assert get("/list-system", dir=f".; touch {marker}").json() == {"status": 0}
        assert get("/fetch", url="http://192.0.2.1/").json() == {"error": "ConnectError"}
        assert get("/fetch", url="http://example.com/").json() == {"error": "ConnectError"}
        assert get("/files", name="/etc/hostname").json() == {"error": "SandboxRefused"}
        assert get("/files", name="../etc/passwd").content.startswith(b"decoy:")
        assert get("/files", name="hello.txt").content == b"hello\n"
        assert get("/fetch-safe", q="x").json()["status"] == 200  # the app may reach itself
        entries = read_record(record)
    assert not marker.exists()
    selftests = [e for e in entries if e["kind"] == "selftest"]
    assert selftests and all(e["target"] == [] for e in selftests)
    refused = {(e["call"], _command(e)) for e in entries if e["kind"] != "selftest"}
    assert ("_posixsubprocess.fork_exec", f"ls .; touch {marker}") in refused
    assert ("os.system", f"ls .; touch {marker} >/dev/null") in refused
    assert ("socket.connect", "['192.0.2.1', 80]") in refused
    assert ("socket.getaddrinfo", "example.com") in refused
    assert ("open", "/etc/hostname") in refused


def _command(entry: dict[str, Any]) -> str:
    target = entry["target"]
    return str(target[0][-1]) if entry["call"] == "_posixsubprocess.fork_exec" else str(target)


@pytest.fixture(scope="module")
def server_run() -> ServerRun:
    return run(SAMPLE, also=EXTRAS)[0]


@pytest.fixture(scope="module")
def sample(server_run: ServerRun) -> Figures:
    return figures(server_run, set(read_payloads(*BENIGN)))


def _unchecked(payload: str) -> bool:
    """Inputs shorter than two characters are not checked at runtime: a lone quote or backtick can only
    break the command line (the bash oracle counts that as a change); docs/detection.md."""
    return len(payload) < 2


@pytest.mark.parametrize("category", ["SQL", "shell", "path", "SSRF"])
def test_detection_on_the_vulnerable_routes(sample: Figures, category: str) -> None:
    tallies = [t for t in sample.detection if t.category == category]
    assert tallies and all(t.changed for t in tallies)
    for tally in tallies:
        missed = [payload for payload in tally.missed if not _unchecked(payload)]
        assert len(missed) <= (1 - DETECTION_TARGET) * tally.changed, (tally.construction, missed)


@pytest.mark.parametrize(("category", "route"), [("path", "/files-safe"), ("SSRF", "/fetch-safe")])
def test_the_payloads_that_once_were_false_positives_reach_the_safe_routes(
    server_run: ServerRun, category: str, route: str
) -> None:
    reached = {o.payload: o.blocked for o in server_run.outcomes if o.route.path == route}
    assert set(EXTRAS[category]) <= reached.keys()
    assert [payload for payload in EXTRAS[category] if reached[payload]] == []


def test_no_false_positive_on_benign_lists(sample: Figures) -> None:
    assert sum(t.unchanged for t in sample.benign) > 0
    assert [t.false_alarms for t in sample.benign if t.false_alarms] == []


def test_no_false_positive_on_safe_routes(sample: Figures) -> None:
    assert len(sample.safe) == 6 and all(reached for _, reached, _ in sample.safe)
    assert [(name, flagged) for name, _, flagged in sample.safe if flagged] == []


def test_blocked_commands_never_reached_process_creation(sample: Figures) -> None:
    assert sample.blocked_yet_spawned == 0
    assert sample.rejected_by_server == 0
