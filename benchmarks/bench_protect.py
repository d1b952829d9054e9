"""Runtime protection costs: one sink check inside a request (the hook bus, the input lookup and the
detector when an input is in the argument), one more identical event of a monitor-mode flood (the rate
limit holds it back), and the added time per request of a Flask route running three SQL queries, bare
and instrumented, interleaved in one run.

Budgets: <= 1 us per sink check when the argument holds no user input; <= 30 us when it does (a
200-character query, tokenize and compare)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import tracesec
from benchmarks import apps
from benchmarks.bench_core import BLOCKS, REQUESTS_PER_BLOCK, _timed_each
from benchmarks.harness import Row, interleaved, per_call_us, report, row
from tracesec.context import EnvironHeaders, RequestContext, _current
from tracesec.hooks import check_sink
from tracesec.protect.verdict import Finding

ABSENT_BUDGET_US = 1.0
PRESENT_BUDGET_US = 30.0
QUERY_STRING = "name=Smith%2C+John+%28III%29+-+Sales&page=3&sort=created_at&fields=name,email"
NAME = "Smith, John (III) - Sales"
QUERY_WITHOUT_INPUT = (
    "SELECT id, name, email, created_at FROM users WHERE tenant_id = 42 AND status = 'active' "
    "AND name LIKE ? ORDER BY created_at DESC LIMIT 50 OFFSET 100 /* page 3 */"
).ljust(200)
QUERY_WITH_INPUT = QUERY_WITHOUT_INPUT.replace("LIKE ?", f"LIKE '%{NAME}%'")[:200]
SQL = {"dialect": "sqlite", "system": "sqlite"}
OUTBOUND_URL = "https://api.example.com/v1/users/42/orders?limit=50"
REQUEST = {"phase": "request", "method": "GET", "sink": "httpx.Client.send"}
CONNECT = {"phase": "connect", "port": 443, "addresses": ["93.184.215.14"], "call_url": OUTBOUND_URL}


def _request_context(agent: tracesec.Agent) -> RequestContext:
    environ = {
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64)",
        "HTTP_COOKIE": "session=abc123; theme=dark",
    }
    ctx = RequestContext(
        agent.config, "bench", "GET", "http", "127.0.0.1", "/users",
        QUERY_STRING, EnvironHeaders(environ), "127.0.0.1", 50000,
    )  # fmt: skip
    ctx.route = "/users"
    return ctx


def sink_checks() -> list[Row]:
    agent = tracesec.install(endpoint="file:///dev/null", behavior=False, discovery=False)
    token = _current.set(_request_context(agent))
    try:
        check_sink("sql", QUERY_WITHOUT_INPUT, SQL)  # the first check extracts the inputs once
        absent = interleaved(
            {
                "sql check, no input in the query": lambda: check_sink("sql", QUERY_WITHOUT_INPUT, SQL),
                "path check, no input in the path": lambda: check_sink(
                    "path", "/srv/app/templates/users/list.html", {"operation": "open", "mode": "r"}
                ),
            },
            number=20_000,
        )
        present = interleaved(
            {
                f"sql check, input in a {len(QUERY_WITH_INPUT)}-char query": lambda: check_sink(
                    "sql", QUERY_WITH_INPUT, SQL
                )
            },
            number=2_000,
        )
        outbound = outbound_checks()
    finally:
        _current.reset(token)
        tracesec.uninstall()
    rows = [row(name, figures, budget_us=ABSENT_BUDGET_US) for name, figures in absent.items()]
    rows += [row(name, figures, budget_us=PRESENT_BUDGET_US) for name, figures in present.items()]
    rows += [row(name, figures, note="not budgeted yet: above 1 us") for name, figures in outbound.items()]
    return rows


def outbound_checks() -> dict[str, list[float]]:
    """The SSRF checks of one client call holding no input: the pre-filter proves no input can name the
    URL's host (no host is parsed, so a new URL costs what a known one does), then the connect phase
    (the connection's host and the call's URL, and the metadata check). Shown, not budgeted yet: above
    the 1 us budget of a sink check without input."""
    fresh_urls = iter([f"{OUTBOUND_URL}&page={number}" for number in range(200_000)])
    return interleaved(
        {
            "outbound check, no input, URL seen before": lambda: check_sink(
                "outbound", OUTBOUND_URL, REQUEST
            ),
            "outbound check, no input, new URL": lambda: check_sink("outbound", next(fresh_urls), REQUEST),
            "connect check, no input": lambda: check_sink("outbound", "api.example.com", CONNECT),
        },
        number=2_000,
    )


def flood_event() -> list[Row]:
    """An attacker replaying one payload in monitor mode: once the key's per-minute quota is used up, each
    further finding is only counted, never turned into evidence or queued."""
    agent = tracesec.install(endpoint="file:///dev/null", behavior=False, discovery=False)
    assert agent.products is not None and agent.products.protection is not None
    verdict = agent.products.protection.verdict
    ctx = _request_context(agent)
    finding = Finding("sql_injection", "sql", "sqlite3.Cursor.execute", QUERY_WITH_INPUT, "query.name", NAME)
    token = _current.set(ctx)
    try:
        for _ in range(agent.config.protect_events_per_minute):
            verdict.report(ctx, finding)
        figures = per_call_us(lambda: verdict.report(ctx, finding), number=2_000)
    finally:
        _current.reset(token)
        tracesec.uninstall()
    return [row("monitor-mode flood: one more identical event, rate-limited", figures)]


def three_query_app() -> Any:
    """A Flask route running three queries, one of which splices a request value (``fields=name,email``
    in the benchmark's query string) into a string literal: harmless, but the detector runs in full."""
    from flask import Flask, request

    app = Flask("bench_protect")
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, tags TEXT)")
    db.execute("INSERT INTO users VALUES (42, 'Ada', 'ada@example.com', '')")

    @app.get("/users/<int:uid>")
    def user(uid: int) -> dict[str, Any]:
        fields = request.args.get("fields", "name")
        found = db.execute(
            f"SELECT id, name FROM users WHERE id = ? AND tags NOT LIKE '%{fields}%'", (uid,)
        ).fetchone()
        db.execute("SELECT count(*) FROM users WHERE email LIKE ?", ("%@example.com",)).fetchone()
        db.execute("SELECT id FROM users WHERE id > ? ORDER BY id LIMIT 10", (uid,)).fetchall()
        return {"user": list(found)}

    return app


def route_with_three_queries() -> list[Row]:
    """Bare, instrumented with protection off, and instrumented with everything on, in alternating blocks."""
    variants: dict[str, dict[str, Any] | None] = {
        "bare": None,
        "protection off": {"protect": False},
        "everything on": {"protect": True},
    }
    tracesec.install(endpoint="file:///dev/null")  # import Flask and sqlite3 patched, as an app would
    request: Callable[[], None] = apps.wsgi_request(three_query_app())
    tracesec.uninstall()
    durations: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(BLOCKS):
        for name, settings in variants.items():
            tracesec.uninstall()
            if settings is not None:
                tracesec.install(endpoint="file:///dev/null", mode="monitor", **settings)
            durations[name].extend(_timed_each(request, REQUESTS_PER_BLOCK))
    tracesec.uninstall()
    note = f"{len(durations['bare'])} requests each"
    return [
        row(
            "3-query route, everything on vs bare",
            durations["everything on"],
            baseline=durations["bare"],
            note=note,
        ),
        row(
            "3-query route, protection on vs off",
            durations["everything on"],
            baseline=durations["protection off"],
            note=note,
        ),
    ]


def main() -> None:
    report("protect", sink_checks() + flood_event() + route_with_three_queries())


if __name__ == "__main__":
    main()
