"""A block decision (from a sink check or a request-start check) reaches the client as the contract's
403 in every framework, with or without the app's own error handling; the code after the sink never runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from tests.core.conftest import Framework, Traced
from tests.support.apps.fastapi_app import create_app as create_fastapi
from tests.support.clients import asgi_client
from tracesec.context import RequestContext
from tracesec.events import Blocked, SecurityEvent
from tracesec.hooks import HOOKS

Decisions = list[SecurityEvent]


def block_quotes(decisions: Decisions) -> Callable[..., None]:
    """A sink check that blocks any SQL text carrying a quote from the user."""

    def check(ctx: RequestContext | None, kind: str, value: str, details: Mapping[str, Any]) -> None:
        if "x'" in value:
            event = SecurityEvent("sql_injection", blocked=True)
            decisions.append(event)
            raise Blocked(event)

    return check


def assert_blocked(response: httpx.Response, event: SecurityEvent) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "request blocked",
        "reason": "sql_injection",
        "event_id": event.event_id,
    }


def after_sink(client: httpx.Client) -> int:
    return int(client.get("/ran").json()["after_sink"])


SQL_PATHS = {
    "flask": ["/sql"],
    "starlette": ["/sql", "/sql-sync"],
    "django-wsgi": ["/sql", "/async/sql"],
    "django-asgi": ["/sql", "/async/sql"],
}


@pytest.mark.parametrize("handle_errors", [False, True], ids=["plain", "own-error-handling"])
@pytest.mark.parametrize("middleware", [False, True], ids=["auto", "middleware"])
def test_sink_block_is_a_403_and_the_code_after_the_sink_does_not_run(
    framework: Framework, traced: Callable[..., Traced], handle_errors: bool, middleware: bool
) -> None:
    recorder = traced(mode="block", protect=False)
    decisions: Decisions = []
    HOOKS.add_sink_check("sql", block_quotes(decisions))
    client = framework.client(middleware=middleware, handle_errors=handle_errors)
    for path in SQL_PATHS[framework.name]:
        ran_before = after_sink(client)
        assert client.get(path, params={"name": "ann"}).text == "ran"  # harmless input runs
        response = client.get(path, params={"name": "x' OR 1=1 --"})
        assert_blocked(response, decisions[-1])
        assert after_sink(client) == ran_before + 1  # only the harmless request got past its sink
    blocked = [s for s in recorder.spans() if s["attributes"].get("tracesec.blocked")]
    assert len(blocked) == len(SQL_PATHS[framework.name])
    for span in blocked:
        assert span["attributes"]["http.response.status_code"] == 403
        assert span["attributes"]["tracesec.blocked.reason"] == "sql_injection"


@pytest.mark.parametrize("handle_errors", [False, True], ids=["plain", "own-error-handling"])
def test_request_start_block_is_a_403_before_the_view_runs(
    framework: Framework, traced: Callable[..., Traced], handle_errors: bool
) -> None:
    traced(mode="block", protect=False)
    decisions: Decisions = []

    def deny_scanner(ctx: RequestContext) -> None:
        if ctx.headers.get("user-agent") == "sqlmap/1.7":
            event = SecurityEvent("scanner", blocked=True)
            decisions.append(event)
            raise Blocked(event)

    HOOKS.request_start.append(deny_scanner)
    client = framework.client(handle_errors=handle_errors)
    ran_before = after_sink(client)
    response = client.get("/sql", params={"name": "ann"}, headers={"User-Agent": "sqlmap/1.7"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "request blocked",
        "reason": "scanner",
        "event_id": decisions[0].event_id,
    }
    assert after_sink(client) == ran_before
    assert client.get("/users/1").status_code == 200


def test_fastapi_sync_route_block(traced: Callable[..., Traced]) -> None:
    traced(mode="block", protect=False)
    decisions: Decisions = []
    HOOKS.add_sink_check("sql", block_quotes(decisions))
    app = create_fastapi()
    client = asgi_client(app)
    assert client.get("/v1/sql", params={"name": "ann"}).json() == {"result": "ran"}
    assert_blocked(client.get("/v1/sql", params={"name": "x'--"}), decisions[-1])
    assert app.state.test_state["after_sink"] == 1
