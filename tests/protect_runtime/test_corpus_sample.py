"""A deterministic sample of the server-level corpus run (benchmarks/corpus_server.py), and first the
sandbox it relies on: in monitor mode tracesec lets every attack through, so each one must be stopped by
the sandbox below the sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.corpus import BENIGN, read_payloads
from benchmarks.corpus_server import Figures, figures, read_record, run, sandboxed_app

SAMPLE = 25
DETECTION_TARGET = 0.99


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
def sample() -> Iterator[Figures]:
    server_run, _ = run(SAMPLE)
    yield figures(server_run, set(read_payloads(*BENIGN)))


KNOWN_GAPS = {
    "shell": "one-character inputs are not checked at runtime: a lone quote or backtick only breaks the "
    "command line, which the bash oracle counts as a change",
    "path": "the input as Werkzeug decodes it (invalid UTF-8 kept as %XX) is not what tracesec's input "
    "extraction holds, and pathlib normalises the path ('.//' and a trailing '/' go) so the input is no "
    "longer in it",
    "SSRF": "httpx normalises the URL (default port dropped, host lower-cased, '/' added) before the sink "
    "sees it, so the input is no longer a substring of it",
}


@pytest.mark.parametrize("category", ["SQL", "shell", "path", "SSRF"])
def test_detection_on_the_vulnerable_routes(sample: Figures, category: str, request: Any) -> None:
    if category in KNOWN_GAPS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_GAPS[category], strict=False))
    tallies = [t for t in sample.detection if t.category == category]
    assert tallies and all(t.changed for t in tallies)
    for tally in tallies:
        assert tally.detected >= DETECTION_TARGET * tally.changed, (tally.construction, tally.missed)


def test_no_false_positive_on_benign_lists(sample: Figures) -> None:
    assert sum(t.unchanged for t in sample.benign) > 0
    assert [t.false_alarms for t in sample.benign if t.false_alarms] == []


def test_no_false_positive_on_safe_routes(sample: Figures) -> None:
    assert len(sample.safe) == 6 and all(reached for _, reached, _ in sample.safe)
    assert [(name, flagged) for name, _, flagged in sample.safe if flagged] == []


def test_blocked_commands_never_reached_process_creation(sample: Figures) -> None:
    assert sample.blocked_yet_spawned == 0
    assert sample.rejected_by_server == 0
