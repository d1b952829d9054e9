"""Inline behavioural checks per request (budget 3 us: actor at request start + all checks at request
end), and extra RSS after 1M distinct actors (budget 32 MB, measured in a fresh subprocess)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import interleaved, report, row
from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.config import Config
from tracesec.context import RequestContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.behavior.simulator import START, generate, replay, to_context  # noqa: E402

CHECKS_BUDGET_US = 3.0
RSS_BUDGET_MB = 32.0
ACTORS = 1_000_000
WARMUP_MINUTES = 30
POOL = 2000


def _warm_engine() -> tuple[BehaviorEngine, list[float], list[RequestContext]]:
    """An engine past warm-up on simulated normal traffic, and a pool of the next normal requests."""
    clock = [START]
    engine = BehaviorEngine(BehaviorSettings(login_routes=frozenset({"/login"})), clock=lambda: clock[0])
    requests = list(generate(users=300, duration=(WARMUP_MINUTES + 5) * 60.0))
    cut = next(i for i, r in enumerate(requests) if r.time >= START + WARMUP_MINUTES * 60.0)
    replay(engine, requests[:cut], clock)
    config = Config.load({})
    pool = []
    for request in requests[cut : cut + POOL]:
        ctx = to_context(request, config)
        ctx.route, ctx.path_params = request.route, request.path_params
        ctx.status_code, ctx.response_body_size = request.status, request.response_bytes
        if request.user is not None:
            ctx.user = (request.user, {})
        pool.append(ctx)
    return engine, clock, pool


def _cycle(pool: list[RequestContext], hook: Callable[[RequestContext], None]) -> Callable[[], None]:
    contexts = itertools.cycle(pool)

    def one() -> None:
        ctx = next(contexts)
        ctx.events.clear()
        hook(ctx)

    return one


def _both(engine: BehaviorEngine) -> Callable[[RequestContext], None]:
    def both(ctx: RequestContext) -> None:
        engine.on_request_start(ctx)
        engine.on_request_end(ctx)

    return both


RSS_PROBE = """
import json, resource, sys
sys.path.insert(0, {root!r})
from tracesec.behavior import BehaviorEngine, BehaviorSettings
from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext
from tracesec.spans import Span

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

config = Config.load({{}})
clock = [1_700_000_000.0]
engine = BehaviorEngine(BehaviorSettings(), clock=lambda: clock[0])
def request(i):
    headers = {{"HTTP_X_API_KEY": f"key-{{i}}", "HTTP_USER_AGENT": "bench"}} if i % 2 else {{}}
    ctx = RequestContext(config, Span("GET", "server", 1), "bench", "GET", "http", "h", f"/api/orders/{{i}}",
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
    engine, _clock, pool = _warm_engine()
    figures = interleaved(
        {
            "on_request_start (actor, block check)": _cycle(pool, engine.on_request_start),
            "on_request_end (all inline checks)": _cycle(pool, engine.on_request_end),
            "start + end, one request": _cycle(pool, _both(engine)),
        },
        number=POOL,
        repeat=15,
    )
    rows = [
        row(name, values, budget_us=CHECKS_BUDGET_US if name.startswith("start + end") else None)
        for name, values in figures.items()
    ]
    rss = _rss_growth()
    growth = rss["after_mb"] - rss["before_mb"]
    note = f"RSS {rss['before_mb']:.1f} -> {rss['after_mb']:.1f} MB after {ACTORS:,} distinct actors"
    rows.append(row("extra RSS after 1M distinct actors (MB)", [growth], budget_us=RSS_BUDGET_MB, note=note))
    report("behavior", rows)


if __name__ == "__main__":
    main()
