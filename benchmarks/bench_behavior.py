"""Inline behavioural checks per request (budget 3 us: actor at request start + all checks at request
end), and extra RSS after 1M distinct actors (budget 32 MB, measured in a fresh subprocess).

Each case serves simulated normal traffic in time order after a 30-minute warm-up, so windows roll and
baselines hold as they would in a live process; the time of the loop alone is subtracted. The in-situ rows
time whole framework requests with behaviour on and off (alternating blocks, one run): what the checks
cost among a real request's cache misses, not in a tight loop."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tracesec
from benchmarks import apps
from benchmarks.harness import Row, report, row
from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.config import Config
from tracesec.context import RequestContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.behavior.simulator import START, SimRequest, generate, replay, to_context  # noqa: E402

CHECKS_BUDGET_US = 3.0
RSS_BUDGET_MB = 32.0
ACTORS = 1_000_000
WARMUP_MINUTES = 30
BATCH = 200
ROUNDS = 60
IN_SITU_REQUESTS = 1000
IN_SITU_BLOCKS = 10

Hook = Callable[[RequestContext], None]


def _skip(ctx: RequestContext) -> None:
    """No preparation."""


@dataclass
class Case:
    """One warmed engine serving its own copy of the stream: ``prepare`` runs untimed on each request of a
    batch (so a case can time one hook alone), then ``hook`` is timed over the batch."""

    clock: list[float]
    hook: Hook
    prepare: Hook = _skip


def simulated_traffic() -> tuple[list[SimRequest], int]:
    """Normal users' requests, and the index where warm-up ends and the measured stream begins."""
    requests = list(generate(users=300, duration=(WARMUP_MINUTES + 45) * 60.0))
    cut = next(i for i, r in enumerate(requests) if r.time >= START + WARMUP_MINUTES * 60.0)
    assert len(requests) - cut >= ROUNDS * BATCH, "the simulated stream is too short for the measurement"
    return requests, cut


def warm_engine(requests: list[SimRequest], cut: int, **settings: Any) -> tuple[BehaviorEngine, list[float]]:
    """An engine past warm-up (its routes have baselines) on the traffic before ``cut``."""
    clock = [START]
    engine = BehaviorEngine(
        BehaviorSettings(login_routes=frozenset({"/login"}), **settings), clock=lambda: clock[0]
    )
    replay(engine, requests[:cut], clock)
    return engine, clock


def served(request: SimRequest, config: Config) -> RequestContext:
    """The request as the core has filled it by request end."""
    ctx = to_context(request, config)
    ctx.route, ctx.path_params = request.route, request.path_params
    ctx.status_code, ctx.response_body_size = request.status, request.response_bytes
    if request.user is not None:
        ctx.user = (request.user, {})
    return ctx


def start_and_end(engine: BehaviorEngine) -> Hook:
    def both(ctx: RequestContext) -> None:
        engine.on_request_start(ctx)
        engine.on_request_end(ctx)

    return both


def cases(requests: list[SimRequest], cut: int) -> dict[str, Case]:
    built: dict[str, Case] = {}
    _, clock = warm_engine(requests, cut)
    built["loop only (baseline)"] = Case(clock, _skip)
    engine, clock = warm_engine(requests, cut)
    built["on_request_start (actor, block check)"] = Case(clock, engine.on_request_start)
    engine, clock = warm_engine(requests, cut)
    built["on_request_end (inline checks)"] = Case(clock, engine.on_request_end, engine.on_request_start)
    engine, clock = warm_engine(requests, cut)
    built["start + end, one request"] = Case(clock, start_and_end(engine))
    engine, clock = warm_engine(requests, cut)
    built["on_record (export worker: span, token sharing, user agent)"] = Case(
        clock, engine.on_record, start_and_end(engine)
    )
    engine, clock = warm_engine(requests, cut, max_actor_routes=0, max_object_ids=0)
    built["start + end, exact tables full (count-mins)"] = Case(clock, start_and_end(engine))
    return built


def timed(built: dict[str, Case], requests: list[SimRequest], cut: int) -> dict[str, list[float]]:
    """Microseconds per request, one figure per batch. Round-robin over the cases, so drift in machine
    speed touches them all alike; each batch's contexts are built just before it is timed, so they are as
    fresh in the CPU caches as a live request's, and its requests follow the last batch's in time."""
    config = Config.load({})
    results: dict[str, list[float]] = {name: [] for name in built}
    for first in range(cut, cut + ROUNDS * BATCH, BATCH):
        for name, case in built.items():
            batch = [(request.time, served(request, config)) for request in requests[first : first + BATCH]]
            clock, hook = case.clock, case.hook
            for clock[0], ctx in batch:
                case.prepare(ctx)
            gc.disable()
            began = time.perf_counter_ns()
            for clock[0], ctx in batch:
                hook(ctx)
            elapsed = time.perf_counter_ns() - began
            gc.enable()
            results[name].append(elapsed / BATCH / 1000)
    return results


def _install(*, behavior: bool) -> None:
    """Block mode: there the checks run on the request thread (in monitor mode, on the export worker)."""
    tracesec.install(
        endpoint="file:///dev/null", mode="block", discovery=False, protect=False, behavior=behavior
    )


def _each_timed(request: Callable[[], None]) -> list[float]:
    durations = []
    for _ in range(IN_SITU_REQUESTS):
        began = time.perf_counter_ns()
        request()
        durations.append((time.perf_counter_ns() - began) / 1000)
    return durations


def in_situ() -> list[Row]:
    """Behaviour on against off in the same Flask and Starlette apps, blocks alternating in one run."""
    _install(behavior=True)  # import the frameworks patched, as an app would
    flask_request = apps.wsgi_request(apps.flask_app())
    serve_starlette = apps.asgi_requests(apps.starlette_app())
    tracesec.uninstall()
    rows = []
    for name, requests_of in (
        ("Flask", lambda: _each_timed(flask_request)),
        ("Starlette", lambda: serve_starlette(IN_SITU_REQUESTS)),
    ):
        on: list[float] = []
        off: list[float] = []
        for _ in range(IN_SITU_BLOCKS):
            for behavior, figures in ((False, off), (True, on)):
                _install(behavior=behavior)
                figures.extend(requests_of())
                tracesec.uninstall()
        rows.append(
            row(
                f"in situ: {name} request, block mode, behaviour on vs off",
                on,
                baseline=off,
                budget_us=CHECKS_BUDGET_US,
                note=f"{len(on)} requests each",
            )
        )
    return rows


RSS_PROBE = """
import json, resource, sys
sys.path.insert(0, {root!r})
from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

config = Config.load({{}})
clock = [1_700_000_000.0]
engine = BehaviorEngine(BehaviorSettings(), clock=lambda: clock[0])
def request(i):
    headers = {{"HTTP_X_API_KEY": f"key-{{i}}", "HTTP_USER_AGENT": "bench"}} if i % 2 else {{}}
    ctx = RequestContext(config, "bench", "GET", "http", "h", f"/api/orders/{{i}}",
                         "", EnvironHeaders(headers), f"10.{{i >> 16 & 255}}.{{i >> 8 & 255}}.{{i & 255}}", 1)
    ctx.route, ctx.path_params = "/api/orders/{{id}}", {{"id": i}}
    ctx.status_code, ctx.response_body_size = 200, 1500
    engine.on_request_start(ctx)
    engine.on_request_end(ctx)
for i in range(1000):
    request(i)
before = rss_mb()
for i in range({actors}):
    clock[0] += 0.001
    request(i)
engine.snapshot()
print(json.dumps({{"before_mb": before, "after_mb": rss_mb()}}))
"""


def _rss_growth() -> dict[str, float]:
    probe = RSS_PROBE.format(root=str(ROOT), actors=ACTORS)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=900
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    requests, cut = simulated_traffic()
    figures = timed(cases(requests, cut), requests, cut)
    loop = figures.pop("loop only (baseline)")
    rows = [
        row(
            name,
            values,
            baseline=loop,
            budget_us=CHECKS_BUDGET_US if name.startswith("start + end") else None,
        )
        for name, values in figures.items()
    ]
    rows.extend(in_situ())
    rss = _rss_growth()
    growth = rss["after_mb"] - rss["before_mb"]
    note = f"RSS {rss['before_mb']:.1f} -> {rss['after_mb']:.1f} MB after {ACTORS:,} distinct actors"
    rows.append(
        row("extra RSS after 1M distinct actors", [growth], budget_us=RSS_BUDGET_MB, note=note, unit="MB")
    )
    report("behavior", rows)


if __name__ == "__main__":
    main()
