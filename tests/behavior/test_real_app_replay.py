"""The simulator's labelled traffic through a real app: normal users and every attack behaviour replayed
over HTTP to a Flask app under gunicorn with the agent, scored on the events the agent exported.

A real server has no injectable clock, so time is compressed: a simulated minute is a real second, and the
windows (and the agent's flush interval) shrink alike; response sizes shrink tenfold with the exfiltration
floor. Client IPs travel in X-Forwarded-For from a trusted proxy, and each request carries a traceparent
whose trace id names it, so every exported event maps back to the request (and attack) that raised it.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

import pytest
from simulator import SCENARIOS, START, Outcome, SimRequest, evaluate, generate

from tests.support.records import read_records, wait_for_spans
from tests.support.servers import HOST, free_port, gunicorn, serve
from tracesec.events import SecurityEvent

TIME_SCALE = 60.0
SIZE_SCALE = 10
APP = "tests.behavior.replay_app:app"
CLIENTS = 8
AGENT_SETTINGS = {
    "TRACESEC_TRUSTED_PROXIES": "127.0.0.1",
    "TRACESEC_FLUSH_INTERVAL": str(5.0 / TIME_SCALE),
    "TRACESEC_BEHAVIOR_WINDOW_SECONDS": str(60.0 / TIME_SCALE),
    "TRACESEC_BEHAVIOR_TOKEN_SHARING_WINDOW_SECONDS": str(600.0 / TIME_SCALE),
    "TRACESEC_BEHAVIOR_STUFFING_WINDOW_SECONDS": str(600.0 / TIME_SCALE),
    "TRACESEC_BEHAVIOR_BLOCK_SECONDS": str(600.0 / TIME_SCALE),
    "TRACESEC_BEHAVIOR_EXFILTRATION_MIN_BYTES": str(1_000_000 // SIZE_SCALE),
    "TRACESEC_BEHAVIOR_LOGIN_ROUTES": "/login",
    "TRACESEC_DISCOVERY": "0",
}


def agent_environment(records: Path, **extra: str) -> dict[str, str]:
    return {"TRACESEC_ENDPOINT": f"file://{records}", **AGENT_SETTINGS, **extra}


def send(connection: http.client.HTTPConnection, request: SimRequest, trace_id: int) -> tuple[int, bytes]:
    headers = {
        **request.headers,
        "X-Forwarded-For": request.client_ip,
        "X-Sim-Status": str(request.status),
        "X-Sim-Bytes": str(max(1, request.response_bytes // SIZE_SCALE)),
        "traceparent": f"00-{trace_id:032x}-{1:016x}-01",
    }
    if request.user is not None:
        headers["X-Sim-User"] = request.user
    connection.request(request.method, request.path, body=request.body or None, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def replay_over_http(port: int, requests: list[SimRequest]) -> float:
    """Send each request at its compressed time from CLIENTS keep-alive connections (the trace id of
    request i is i + 1); returns the largest delay behind schedule, in real seconds."""
    started = time.monotonic() + 0.2
    origin = requests[0].time
    lock = threading.Lock()
    queue = iter(enumerate(requests))
    delays: list[float] = []

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        worst = 0.0
        while True:
            with lock:
                index, request = next(queue, (-1, requests[0]))
            if index < 0:
                break
            due = started + (request.time - origin) / TIME_SCALE
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            worst = max(worst, -wait)
            status, _ = send(connection, request, index + 1)
            assert status != 500
        connection.close()
        delays.append(worst)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(delays) == CLIENTS, "a client thread failed"
    return max(delays)


def exported_events(records: Path) -> list[dict[str, object]]:
    return [record for record in read_records(records) if "event_id" in record]


@pytest.mark.slow
def test_replayed_traffic_is_scored_per_check_on_the_events_the_agent_exported(tmp_path: Path) -> None:
    requests = list(
        generate(users=60, duration=30 * 60.0, attacks=list(SCENARIOS), instances=2, attacks_after=15 * 60.0)
    )
    records = tmp_path / "records.jsonl"
    port = free_port()
    with serve(gunicorn(APP, port, "--threads", "8"), port, agent_environment(records)):
        lag = replay_over_http(port, requests)
        assert len(wait_for_spans(records, len(requests), timeout=30)) == len(requests)
    outcome = Outcome(requests=len(requests))
    for request in requests:
        if request.attacker is not None and request.attack is not None:
            outcome.attackers[request.attacker] = request.attack
    for record in exported_events(records):
        request = requests[int(str(record["trace_id"]), 16) - 1]
        outcome.events.append((SecurityEvent(str(record["type"])), request))
    score = evaluate(outcome, SCENARIOS)
    print(f"\n{len(requests)} requests, at most {lag:.2f} s behind schedule")
    for name, recall in score.recall.items():
        print(f"recall    {name:26} {recall:.0%}")
    for kind, precision in score.precision.items():
        print(f"precision {kind:26} {precision:.0%}")
    assert {name: recall for name, recall in score.recall.items() if recall < 0.95} == {}
    assert {kind: n for kind, n in score.false_positives.items() if n} == {}


def test_block_mode_refuses_the_offender_next_request_and_only_it(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    port = free_port()
    env = agent_environment(records, TRACESEC_MODE="block")
    scanner, bystander = "198.51.100.66", "198.51.100.77"

    def get(path: str, ip: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            probe = SimRequest(START, "GET", path, None, 200, 20, ip, headers={"user-agent": "curl/8"})
            return send(connection, probe, 1)
        finally:
            connection.close()

    with serve(gunicorn(APP, port), port, env):
        assert get("/api/profile", scanner)[0] == 200
        for path in ("/.env", "/.git/config", "/wp-login.php"):
            assert get(path, scanner)[0] == 404
        status, body = get("/api/profile", scanner)
        assert get("/api/profile", bystander)[0] == 200
    assert status == 403
    answer = json.loads(body)
    assert (answer["error"], answer["reason"]) == ("request blocked", "blocked_actor")
    events = {str(event["event_id"]): event for event in exported_events(records)}
    assert events[answer["event_id"]]["type"] == "blocked_actor"
    assert sorted(str(event["type"]) for event in events.values()) == ["blocked_actor", "scanner"]
