"""Added time per request: the same JSON route bare and with tracesec (monitor mode, everything on),
in-process for Flask, Django and Starlette, interleaved in one run. Budget: <= 10 us added (median).

Each block first serves untimed requests, so what is timed is the steady state, not the first requests
after install. That matters for the export queue: in this loop the app never waits on I/O, so the worker
thread seldom gets the GIL and the queue fills; from then on new spans are dropped (counted, as when any
app outruns its exporter), where the first 2,048 are held. The worker's own cost per span is its own row."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import tracesec
from benchmarks import apps
from benchmarks.harness import Row, per_call_us, report, row

BUDGET_US = 10.0
REQUESTS_PER_BLOCK = 2000
BLOCKS = 5
WARM_UP = 2500  # untimed, per block: more than the export queue holds (2,048)


def _timed_each(request: Callable[[], None], count: int) -> list[float]:
    durations = []
    for _ in range(count):
        start = time.perf_counter_ns()
        request()
        durations.append((time.perf_counter_ns() - start) / 1000)
    return durations


def _install() -> tracesec.Agent:
    return tracesec.install(endpoint="file:///dev/null", mode="monitor")


def measure(name: str, requests_of: Callable[[int], list[float]]) -> Row:
    """Alternate bare and instrumented blocks so both see the same machine state."""
    bare: list[float] = []
    traced: list[float] = []
    for _ in range(BLOCKS):
        tracesec.uninstall()
        requests_of(WARM_UP)
        bare.extend(requests_of(REQUESTS_PER_BLOCK))
        _install()
        requests_of(WARM_UP)
        traced.extend(requests_of(REQUESTS_PER_BLOCK))
    tracesec.uninstall()
    note = f"{len(traced)} requests each, after {WARM_UP} untimed per block"
    return row(name, traced, baseline=bare, budget_us=BUDGET_US, note=note)


def worker_cost() -> Row:
    """What the export worker spends per server span (shaping, redaction, JSON), off the request thread."""
    agent = _install()
    captured: list[object] = []
    agent.exporter.enqueue = captured.append  # type: ignore[method-assign]
    apps.wsgi_request(apps.flask_app())()
    tracesec.uninstall()
    span = captured[0]

    def serialise() -> None:
        json.dumps(span.to_wire())  # type: ignore[attr-defined]

    return row("worker: shape + serialise one Flask span", per_call_us(serialise, number=2000))


def main() -> None:
    _install()  # import the frameworks patched, as an app would
    flask_request = apps.wsgi_request(apps.flask_app())
    django_request = apps.wsgi_request(apps.django_app())
    starlette_requests = apps.asgi_requests(apps.starlette_app())
    tracesec.uninstall()
    rows = [
        measure("Flask GET /users/<int:uid> (JSON)", lambda n: _timed_each(flask_request, n)),
        measure("Django GET users/<int:uid> (JSON)", lambda n: _timed_each(django_request, n)),
        measure("Starlette GET /users/{uid} (JSON)", starlette_requests),
        worker_cost(),
    ]
    report("core_request_overhead", rows)
    over = [r.name for r in rows if r.within_budget is False]
    if over:
        print(f"over budget: {', '.join(over)} (median added > {BUDGET_US} us)")
    print(f"median of medians added: {statistics.median(r.added_us or 0 for r in rows[:3]):.2f} us")


if __name__ == "__main__":
    main()
