"""Each sink of the example vulnerable app over a real server: in monitor mode the attack runs and is
reported with its evidence; in block mode the client gets the contract's 403 and the sink never runs; the
safe twin of each route is left alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.protect_runtime.conftest import Protected

SQL_ATTACK = "x' OR '1'='1"
SHELL_ATTACK = ".; echo INJECTED"
PATH_ATTACK = "../" * 16 + "etc/hostname"

# (route, query parameters, event type, sink, input path)
ATTACKS = [
    ("/users/search", {"name": SQL_ATTACK}, "sql_injection", "sqlite3.Connection.execute", "query.name"),
    ("/users/by-id", {"id": "1 OR 1=1"}, "sql_injection", "sqlite3.Connection.execute", "query.id"),
    ("/list", {"dir": SHELL_ATTACK}, "shell_injection", "subprocess.Popen", "query.dir"),
    ("/list-sh", {"dir": SHELL_ATTACK}, "shell_injection", "subprocess.Popen", "query.dir"),
    ("/list-system", {"dir": "$(echo INJECTED)"}, "shell_injection", "os.system", "query.dir"),
    ("/files", {"name": PATH_ATTACK}, "path_traversal", "open", "query.name"),
    ("/files", {"name": "/etc/hostname"}, "path_traversal", "open", "query.name"),
    ("/files-pathlib", {"name": "/etc/hostname"}, "path_traversal", "pathlib.Path.read_bytes", "query.name"),
]
SAFE_TWINS = [
    ("/users/search-safe", {"name": SQL_ATTACK}),
    ("/users/by-id-safe", {"id": "1 OR 1=1"}),
    ("/list-safe", {"dir": SHELL_ATTACK}),
    ("/list-quoted", {"dir": SHELL_ATTACK}),
    ("/files-safe", {"name": PATH_ATTACK}),
    ("/files-safe", {"name": "hello.txt"}),
    ("/fetch-safe", {"q": "http://127.0.0.1:1/"}),
]


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [f"{case[0]}-{next(iter(case[1].values()))[:12]}" for case in cases]


@pytest.mark.parametrize(("route", "params", "kind", "sink", "input_path"), ATTACKS, ids=_ids(ATTACKS))
def test_monitor_mode_lets_the_attack_run_and_reports_it_with_evidence(
    monitored: Protected, route: str, params: dict[str, str], kind: str, sink: str, input_path: str
) -> None:
    response = monitored.get(route, params=params)
    assert response.status_code != 403
    payload = next(iter(params.values()))
    events = monitored.events(1, type=kind, **{"http.route": route, "tracesec.input.payload": payload})
    assert events, f"no {kind} event for {route}"
    event = events[-1]
    attributes = event["attributes"]
    assert event["blocked"] is False
    assert event["severity"] in ("high", "critical")
    assert attributes["tracesec.sink"] == sink
    assert attributes["tracesec.input.source"] == "query"
    assert attributes["tracesec.input.path"] == input_path
    assert payload in attributes["tracesec.sink.value"]
    assert attributes["http.request.method"] == "GET"
    assert attributes["url.path"] == route
    filename, line, function = attributes["code.location"].rsplit(":", 2)
    assert filename.endswith("examples/vulnerable_app.py") and line.isdigit() and function
    assert len(event["trace_id"]) == 32 and len(event["span_id"]) == 16


@pytest.mark.parametrize(("route", "params", "kind", "sink", "input_path"), ATTACKS, ids=_ids(ATTACKS))
def test_block_mode_answers_403_and_the_sink_does_not_run(
    blocking: Protected, route: str, params: dict[str, str], kind: str, sink: str, input_path: str
) -> None:
    response = blocking.get(route, params=params)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "request blocked" and body["reason"] == kind
    event = blocking.event(body["event_id"])
    assert event["type"] == kind and event["blocked"] is True
    assert event["attributes"]["tracesec.sink"] == sink
    assert event["attributes"]["tracesec.input.path"] == input_path


def test_blocked_shell_command_never_ran(
    blocking: Protected, tmp_path_factory: pytest.TempPathFactory
) -> None:
    marker = tmp_path_factory.mktemp("marker") / "ran"
    response = blocking.get("/list", params={"dir": f".; touch {marker}"})
    assert response.status_code == 403
    assert not marker.exists()
    assert blocking.get("/list", params={"dir": "."}).json()["status"] == 0  # a plain folder name runs


@pytest.mark.parametrize(("route", "params"), SAFE_TWINS, ids=_ids(SAFE_TWINS))
def test_safe_twins_are_left_alone_in_block_mode(
    blocking: Protected, route: str, params: dict[str, str]
) -> None:
    assert blocking.get(route, params=params).status_code != 403
    assert blocking.no_events(**{"url.path": route}) == []


def test_inputs_from_json_body_path_parameter_and_header_are_named(blocking: Protected) -> None:
    by_body = blocking.client.post("/users/find", json={"user": {"name": "ann' OR 1=1 --"}})
    by_path = blocking.get("/users/ada' OR 'a'='a/visits")
    by_header = blocking.get("/users/ada/visits", headers={"User-Agent": "x', 1); DROP TABLE users; --"})
    paths = []
    for response in (by_body, by_path, by_header):
        assert response.status_code == 403
        paths.append(blocking.event(response.json()["event_id"])["attributes"]["tracesec.input.path"])
    assert paths == ["body.user.name", "path.name", "header.user-agent"]


def test_harmless_inputs_reach_the_sinks(blocking: Protected) -> None:
    assert blocking.get("/users/search", params={"name": "ada"}).json() == [[1, "ada"]]
    assert blocking.get("/users/by-id", params={"id": "2"}).json() == [[2, "alan"]]
    assert blocking.get("/files", params={"name": "hello.txt"}).text == "hello\n"
    assert blocking.get("/list", params={"dir": "."}).json()["output"] == "hello.txt\n"
