"""``tracesec demo --no-wait`` end to end: the real command, then the collector's HTTP API on the database
it filled (inventory, every attack detected and stopped, incidents)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.demo import BEHAVIOURS, INJECTIONS, run_demo
from tracesec.collector.process import CollectorProcess

ROUTES = {
    ("POST", "/api/login"),
    ("GET", "/api/me"),
    ("GET", "/api/products"),
    ("GET", "/api/search"),
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders/{order_id}"),
    ("GET", "/api/receipt"),
    ("GET", "/api/invoices/download"),
    ("GET", "/api/preview"),
    ("GET", "/api/partner/customers"),
}


@dataclass
class DemoRun:
    result: subprocess.CompletedProcess[str]
    collector: CollectorProcess

    def get(self, path: str, **params: Any) -> Any:
        reply = httpx.get(self.collector.url + path, params=params, timeout=30.0)
        reply.raise_for_status()
        return reply.json()

    def events(self) -> list[dict[str, Any]]:
        return list(self.get("/v1/events", limit=1000)["events"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    db = tmp_path_factory.mktemp("demo") / "collector.sqlite"
    result = run_demo(db)
    assert result.returncode == 0, result.stdout + result.stderr
    with CollectorProcess(db) as collector:
        yield DemoRun(result, collector)


@pytest.mark.slow
def test_prints_progress_a_summary_and_the_dashboard_url(demo: DemoRun) -> None:
    out = demo.result.stdout
    assert "collector listening on http://127.0.0.1:" in out
    assert "normal traffic:" in out
    for attack in (*INJECTIONS, *BEHAVIOURS):
        assert f"attack {attack}:" in out
        summary_line = next(line for line in out.splitlines() if line.strip().startswith(attack + " "))
        assert "MISSED" not in summary_line, summary_line
    assert "APIs found: " in out
    assert "Incidents: " in out
    assert "Dashboard: http://127.0.0.1:" in out


@pytest.mark.slow
def test_inventory_lists_the_shop_and_its_sensitive_data(demo: DemoRun) -> None:
    apis = demo.get("/v1/apis", limit=1000)["apis"]
    found = {(api["method"], api["route"]) for api in apis if api["service"] == "shop"}
    assert found >= ROUTES
    by_route = {(api["method"], api["route"]): api for api in apis}
    assert {"credit_card", "email"} <= set(by_route[("GET", "/api/orders/{order_id}")]["labels"]["response"])
    assert "email" in by_route[("GET", "/api/partner/customers")]["labels"]["response"]
    assert "credit_card" in by_route[("POST", "/api/orders")]["labels"]["request"]
    assert "jwt" in by_route[("GET", "/api/me")]["auth"]
    riskiest = max(apis, key=lambda api: api["risk"]["score"])
    assert riskiest["labels"]["response"], "the riskiest endpoint returns sensitive data"


@pytest.mark.slow
def test_every_injection_was_blocked_at_its_sink(demo: DemoRun) -> None:
    events = demo.events()
    for attack in INJECTIONS:
        found = [event for event in events if event["type"] == attack]
        assert found, f"no {attack} event"
        assert all(event["blocked"] for event in found), attack


@pytest.mark.slow
def test_every_behavioural_attack_was_detected_and_its_actor_blocked(demo: DemoRun) -> None:
    events = demo.events()
    refused_for = {
        event["attributes"].get("tracesec.behavior.block_reason")
        for event in events
        if event["type"] == "blocked_actor"
    }
    for attack in BEHAVIOURS:
        assert any(event["type"] == attack for event in events), f"no {attack} event"
        assert attack in refused_for, f"no later request of the {attack} attacker was refused"


@pytest.mark.slow
def test_normal_users_were_never_refused(demo: DemoRun) -> None:
    customers = {f"jwt:{customer}" for customer in range(1, 13)}
    for event in demo.events():
        attributes = event["attributes"]
        actor = f"{attributes.get('tracesec.actor.kind')}:{attributes.get('tracesec.actor.id')}"
        assert actor not in customers, event


@pytest.mark.slow
def test_incidents_cover_every_attack_and_say_they_were_blocked(demo: DemoRun) -> None:
    incidents = demo.get("/v1/incidents")["incidents"]
    types = {incident_type for incident in incidents for incident_type in incident["types"]}
    assert types >= {*INJECTIONS, *BEHAVIOURS}
    assert all(incident["blocked"] for incident in incidents)


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tracesec.cli", "demo", "--port", str(port), "--no-wait"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
