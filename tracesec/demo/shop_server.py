"""Runs the demo shop under the tracesec agent in block mode: ``python -m tracesec.demo.shop_server``.

The agent sends to the demo's collector every second, believes ``X-Forwarded-For`` from loopback (the
traffic generator plays clients from many addresses that way), and uses behaviour thresholds scaled to a
one-minute demo instead of production's hour of warm-up."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import tracesec

WINDOW_SECONDS = 10.0
"""Behaviour window of the demo (production: 60 s). The traffic generator plans its attacks around it."""


def _scale_behaviour_to_the_demo(agent: tracesec.Agent) -> None:
    """``Config`` has no ``behavior_*`` settings yet (docs/behavior.md), so the demo sets its thresholds on
    the running engine and starts its counts afresh."""
    engine = agent.products.behavior if agent.products is not None else None
    if engine is not None:
        engine.settings = dataclasses.replace(
            engine.settings,
            window_seconds=WINDOW_SECONDS,
            warmup_windows=1,
            warmup_actors=3,
            rate_factor=5.0,
            rate_min_calls=40,
            enumeration_min_ids=20,
            exfiltration_min_bytes=150_000,
            stuffing_failures=10,
        )
        engine.reset()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracesec.demo.shop_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="folder made by tracesec.demo.seed")
    parser.add_argument("--collector", required=True, help="URL of the collector")
    parser.add_argument("--api-key", default=None, help="the collector's key, if it has one")
    args = parser.parse_args(argv)

    agent = tracesec.install(
        service="shop",
        mode="block",
        endpoint=args.collector,
        api_key=args.api_key,
        flush_interval=1.0,
        trusted_proxies="127.0.0.1/32,::1/128",
    )
    _scale_behaviour_to_the_demo(agent)

    import uvicorn

    from tracesec.demo.shop import create_app

    uvicorn.run(
        create_app(args.data), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
