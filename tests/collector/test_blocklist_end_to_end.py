"""The blocklist push end to end: two instances of a real app (gunicorn + Flask, agent in block mode)
export to one collector; an actor one instance flags and blocks is refused by the other one too, which
learnt of it only from the collector's 202 replies."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tests.support.servers import Server, free_port, gunicorn, serve
from tracesec.collector.process import CollectorProcess

ATTACKER = "203.0.113.66"
BYSTANDER = "198.51.100.7"


def _agent_env(collector: CollectorProcess) -> dict[str, str]:
    return {
        "TEST_TRACESEC_INSTALL": "after",
        "TRACESEC_SERVICE": "e2e-block",
        "TRACESEC_ENDPOINT": collector.url,
        "TRACESEC_API_KEY": API_KEY,
        "TRACESEC_MODE": "block",
        "TRACESEC_TRUSTED_PROXIES": "127.0.0.1",
        "TRACESEC_FLUSH_INTERVAL": "0.05",
    }


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Server, Server, CollectorProcess]]:
    with (
        CollectorProcess(tmp_path / "collector.sqlite", api_key=API_KEY) as collector,
        contextlib.ExitStack() as stack,
    ):
        apps = []
        for _ in range(2):
            port = free_port()
            command = gunicorn("tests.support.apps.flask_app:app", port, "--threads", "4")
            apps.append(stack.enter_context(serve(command, port, _agent_env(collector))))
        yield apps[0], apps[1], collector


def _get(app: Server, client: str, user_agent: str = "Mozilla/5.0") -> httpx.Response:
    headers = {"X-Forwarded-For": client, "User-Agent": user_agent}
    return httpx.get(app.url + "/ran", headers=headers, timeout=30)


def _refused(app: Server) -> httpx.Response:
    """The attacker's request once ``app`` refuses it; meanwhile a bystander's requests keep the agent
    exporting (and so hearing the collector's replies). Bounded: fails after about 15 s."""
    for _ in range(300):
        reply = _get(app, ATTACKER)
        if reply.status_code == 403:
            return reply
        assert _get(app, BYSTANDER).status_code == 200
        time.sleep(0.05)
    raise AssertionError(f"{app.url} never refused the attacker")


def test_an_actor_blocked_on_one_instance_is_blocked_on_the_other(
    two_instances: tuple[Server, Server, CollectorProcess],
) -> None:
    first, second, collector = two_instances
    assert _get(second, ATTACKER).status_code == 200
    _get(first, ATTACKER, user_agent="sqlmap/1.7")  # flagged as a scanner and blocked by the first
    assert _refused(first).json()["reason"] == "blocked_actor"
    refused = _refused(second)  # learnt from the collector only
    assert refused.json() == {
        "error": "request blocked",
        "reason": "blocked_actor",
        "event_id": refused.json()["event_id"],
    }
    assert _get(second, BYSTANDER).status_code == 200
    pushed = httpx.get(collector.url + "/v1/blocklist", headers=collector.headers).json()["blocklist"]
    assert [(entry["kind"], entry["value"]) for entry in pushed] == [("ip", ATTACKER)]
