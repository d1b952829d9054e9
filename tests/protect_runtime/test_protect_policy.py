"""What the operator decides: allow-listed routes and inputs, protection turned off, the flood limit on
identical events, and that a failing check never breaks the sink (fail open)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask, request

import tracesec
from tests.protect_runtime.conftest import protected_app, security_events
from tests.support.clients import wsgi_client
from tests.support.records import Record, wait_for_records
from tracesec.events import Blocked, SecurityEvent
from tracesec.failsafe import internal_errors
from tracesec.protect import sinks
from tracesec.protect import verdict as verdict_module
from tracesec.protect.ratelimit import EventLimiter
from tracesec.protect.verdict import Finding, Verdict

SQL_ATTACK = {"name": "x' OR '1'='1"}
PATH_ATTACK = {"name": "../" * 16 + "etc/hostname"}


def test_allow_listed_routes_and_inputs_are_not_checked(tmp_path: Path) -> None:
    settings = {
        "protect_allow_routes": "/users/search,/list*",
        "protect_allow_inputs": "query.id,body.*.name",
    }
    with protected_app(tmp_path, mode="block", **settings) as served:
        assert served.get("/users/search", params=SQL_ATTACK).status_code == 200
        assert served.get("/list-sh", params={"dir": ".; true"}).status_code == 200
        assert served.get("/users/by-id", params={"id": "1 OR 1=1"}).status_code == 200
        assert served.client.post("/users/find", json={"user": {"name": "x' OR 1=1 --"}}).status_code == 200
        # everything else is still protected
        assert served.get("/files", params=PATH_ATTACK).status_code == 403
        assert served.get("/users/by-id", params={"id": "1", "name": "1 OR 1=1"}).status_code == 200
        assert served.get("/users/ada'--/visits").status_code == 403


def test_protection_switched_off_checks_nothing(tmp_path: Path) -> None:
    with protected_app(tmp_path, mode="block", protect="false") as served:
        assert served.get("/users/search", params=SQL_ATTACK).status_code == 200
        assert served.get("/files", params=PATH_ATTACK).status_code == 200
        spans = wait_for_records(served.events_path, lambda found: any(_is_files(s) for s in found))
        assert any(_is_files(s) for s in spans)  # exported after any event of its request would have been
        assert security_events(served.events_path) == []


def _is_files(span: Record) -> bool:
    return bool(span["attributes"].get("url.path") == "/files")


def test_a_flood_of_identical_attacks_is_all_blocked_but_shipped_at_the_limit(tmp_path: Path) -> None:
    with protected_app(tmp_path, mode="block", protect_events_per_minute="3") as served:
        statuses = [served.get("/users/by-id", params={"id": "1 OR 1=1"}).status_code for _ in range(8)]
        assert statuses == [403] * 8
        flood = served.no_events(**{"http.route": "/users/by-id"})
        assert len(flood) == 3


def test_limiter_reports_how_many_it_held_back() -> None:
    now = [0.0]
    limiter = EventLimiter(2, max_keys=2, clock=lambda: now[0])
    assert [limiter.admit("a") for _ in range(5)] == [0, 0, None, None, None]
    now[0] = 61.0
    assert limiter.admit("a") == 3  # the next shipped event says 3 were held back
    assert limiter.admit("a") == 0
    limiter.admit("b")
    limiter.admit("c")  # memory stays bounded: the least recently used key goes
    assert list(limiter._keys) == ["b", "c"]
    assert limiter.suppressed_total == 3


def test_held_back_count_travels_on_the_next_event() -> None:
    now = [0.0]
    shipped: list[SecurityEvent] = []
    verdict = Verdict(block=False, limiter=EventLimiter(1, clock=lambda: now[0]), emit=shipped.append)
    finding = Finding("sql_injection", "sql", "sqlite.execute", "SELECT 1", "query.q", "1 OR 1=1")
    for _ in range(4):
        verdict.report(None, finding)
    now[0] = 120.0
    verdict.report(None, finding)
    assert len(shipped) == 2
    assert "tracesec.protect.suppressed" not in shipped[0].attributes
    assert shipped[1].attributes["tracesec.protect.suppressed"] == 3


@pytest.mark.parametrize("block", [False, True])
def test_a_held_back_event_builds_evidence_only_when_it_blocks(
    monkeypatch: pytest.MonkeyPatch, block: bool
) -> None:
    """A monitor-mode flood costs a counter per event; a blocked request still gets its event and 403."""
    frames_read: list[int] = []
    monkeypatch.setattr(verdict_module, "app_frame", frames_read.append)
    shipped: list[SecurityEvent] = []
    verdict = Verdict(block=block, limiter=EventLimiter(1), emit=shipped.append)
    finding = Finding("sql_injection", "sql", "sqlite3.Cursor.execute", "SELECT 1", "query.q", "1 OR 1=1")
    for _ in range(5):
        if block:
            with pytest.raises(Blocked):
                verdict.report(None, finding)
        else:
            verdict.report(None, finding)
    assert len(shipped) == 1
    assert len(frames_read) == (5 if block else 1)
    assert verdict.limiter.suppressed_total == 4


def test_a_failing_detector_lets_the_sink_run_and_is_counted(
    clean_tracesec: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> bool:
        raise RuntimeError("detector bug")

    monkeypatch.setattr(sinks, "detect_sql_injection", broken)
    tracesec.install(endpoint=f"file://{tmp_path / 'out.jsonl'}", mode="block", behavior=False)
    app = Flask("failopen")

    @app.get("/search")
    def search() -> str:
        db = sqlite3.connect(":memory:")
        rows = db.execute(f"SELECT '{request.args['name']}'").fetchall()
        return str(rows)

    client = wsgi_client(app)
    assert client.get("/search", params={"name": "x' || 'y"}).text == "[('xy',)]"
    assert internal_errors().get("sink.sql") == 1
