"""``tracesec demo`` from start to end: ports, a collector on a temporary SQLite file, the instrumented
shop, the traffic, the summary; then the collector stays up for the dashboard until Ctrl-C (or for
``duration`` seconds)."""

from __future__ import annotations

import errno
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tracesec.collector.process import CollectorProcess, free_port
from tracesec.demo.attacks import BEHAVIOURS, INJECTIONS
from tracesec.demo.seed import create_shop_data
from tracesec.demo.shop_process import ShopProcess
from tracesec.demo.summary import Findings, format_summary, read_events, read_findings
from tracesec.demo.traffic import run_traffic

EXPECTED_EVENTS = frozenset(INJECTIONS) | frozenset(BEHAVIOURS)
COLLECTOR_ARGS = ("--baseline-bucket-seconds", "5", "--analysis-interval", "5")
"""The demo's traffic lasts seconds, so its endpoint baselines count in 5 s buckets, fed every 5 s: the
dashboard then has series and bands to draw (a real collector keeps the hourly default)."""
_DELIVERY_TIMEOUT = 20.0
_DELIVERY_POLL = 0.5

Say = Callable[[str], None]


class DemoError(Exception):
    """Something the user can fix (a port in use); the message says what."""


@dataclass(frozen=True)
class DemoOptions:
    port: int = 4319
    """The collector's (and dashboard's) port; 0 picks a free one."""
    shop_port: int = 8400
    db_path: Path | None = None
    """Where the collector stores; default: a temporary file removed at the end."""
    duration: float | None = None
    """Seconds the collector stays up after the summary; None: until Ctrl-C."""


def ensure_free(port: int, what: str, option: str) -> int:
    """``port`` itself when nothing listens on it (0: a free one); DemoError naming the option if taken."""
    if port == 0:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise DemoError(f"cannot use port {port} for the {what}: {exc}") from None
            raise DemoError(
                f"port {port} on 127.0.0.1 is already in use, so the {what} cannot listen there "
                f"(is another tracesec demo or collector running?). Choose another with {option} PORT, "
                f"or {option} 0 for any free port."
            ) from None
    return port


def run_demo(options: DemoOptions, say: Say) -> Findings:
    collector_port = ensure_free(options.port, "collector", "--port")
    shop_port = ensure_free(options.shop_port, "demo shop", "--shop-port")
    with tempfile.TemporaryDirectory(prefix="tracesec-demo-") as folder:
        db_path = options.db_path or Path(folder) / "collector.sqlite"
        say("preparing the shop's data (1000 customers with e-mails, phones and card numbers)")
        shop_data = create_shop_data(Path(folder) / "shop").parent
        with CollectorProcess(db_path, port=collector_port, extra_args=COLLECTOR_ARGS) as collector:
            say(f"collector listening on {collector.url} (database {db_path})")
            with ShopProcess(shop_data, shop_port, collector.url, None) as shop:
                say(f"shop API listening on {shop.url}, agent in block mode reporting to the collector")
                outcomes = run_traffic(shop.url, collector.url + "/v1/health", say)
                _await_delivery(collector.url, say)
            say("shop stopped; its agent delivered its last batch on the way out")
            findings = read_findings(collector.url)
            dashboard = collector.url + "/"
            say(format_summary(findings, outcomes, dashboard))
            _stay_up(options.duration, dashboard, say)
    return findings


def _await_delivery(collector_url: str, say: Say) -> None:
    """Until the collector holds an event of every attack type, or the events stop growing a while."""
    say("waiting for the agent's last batches")
    deadline = time.monotonic() + _DELIVERY_TIMEOUT
    seen, unchanged = -1, 0
    with httpx.Client(base_url=collector_url, timeout=10.0) as http:
        while time.monotonic() < deadline:
            events = read_events(http)
            types = {event["type"] for event in events}
            if types >= EXPECTED_EVENTS:
                return
            unchanged = unchanged + 1 if len(events) == seen else 0
            if unchanged >= 6:
                return
            seen = len(events)
            time.sleep(_DELIVERY_POLL)


def _stay_up(duration: float | None, dashboard: str, say: Say) -> None:
    if duration == 0:
        return
    if duration is None:
        say(f"The collector keeps running for the dashboard at {dashboard}; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            say("stopping")
        return
    say(f"The collector keeps running for {duration:g} s for the dashboard at {dashboard}.")
    time.sleep(duration)
