"""Issue 7, service side, over HTTP: inventory deltas from several instances merged per endpoint,
GET /v1/apis with risk, GET /v1/openapi.json, and api_drift events after a service's learning period."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_client import get, post_batch
from openapi_spec_validator import validate
from payloads import batch, endpoint_record, event

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess

JWT = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2ln"


@pytest.fixture
def eager(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A collector reporting drift from a service's first batch on (no learning period)."""
    extra = ["--drift-grace-minutes", "0"]
    with CollectorProcess(tmp_path / "c.sqlite", api_key=API_KEY, extra_args=extra) as process:
        yield process


def _send(
    collector: CollectorProcess, instance: str, *records: dict[str, Any], service: str = "shop"
) -> None:
    reply = post_batch(collector, batch(service, instance, inventory=list(records)))
    assert reply.status_code == 202, reply.text


def _apis(collector: CollectorProcess, **params: Any) -> list[dict[str, Any]]:
    reply = get(collector, "/v1/apis", **params)
    assert reply.status_code == 200, reply.text
    apis: list[dict[str, Any]] = reply.json()["apis"]
    return apis


def _drift(collector: CollectorProcess) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = get(collector, "/v1/events", type="api_drift").json()["events"]
    return events


def _user_record(uid: Any, **request: Any) -> dict[str, Any]:
    request.setdefault("response", {"id": uid, "email": "ann@example.com"})
    return endpoint_record("GET", f"/users/{uid}", "/users/{uid}", path_params={"uid": uid}, **request)


def test_deltas_from_several_instances_are_merged_per_endpoint(collector: CollectorProcess) -> None:
    first = _user_record(1, query="expand=1", downstream={("db", "postgresql")})
    second = _user_record(2, headers={"Authorization": JWT})
    first["first_seen_unix_nano"], first["last_seen_unix_nano"] = 100, 200
    second["first_seen_unix_nano"], second["last_seen_unix_nano"] = 150, 300
    _send(collector, "web-1", first)
    _send(collector, "web-2", second)
    _send(collector, "web-2", endpoint_record("POST", "/orders", "/orders", json_body={"sku": "a"}))
    (users,) = [api for api in _apis(collector, service="shop") if api["route"] == "/users/{uid}"]
    assert (users["calls"], users["first_seen_unix_nano"], users["last_seen_unix_nano"]) == (2, 100, 300)
    assert users["auth"] == {"none": 1, "jwt": 1}
    assert users["status_codes"] == {"200": 2}
    assert users["downstream"] == ["db:postgresql"]
    parameters = {(p["in"], p["name"]): p for p in users["parameters"]}
    assert parameters["path", "uid"]["types"] == ["integer"]
    assert parameters["query", "expand"]["types"] == ["integer"]
    assert users["labels"]["response"] == ["email"]
    assert "returns personal data: email (+20)" in users["risk"]["reasons"]
    assert users["risk"]["score"] == 20 + 15 + 10  # personal data, sometimes no auth, internet-facing
    assert _apis(collector, service="other") == []


def test_apis_are_riskiest_first_and_attacks_raise_the_risk(collector: CollectorProcess) -> None:
    quiet = endpoint_record("GET", "/health", "/health", client="10.0.0.1", headers={"Authorization": JWT})
    exposed = _user_record(1)
    _send(collector, "web-1", quiet, exposed)
    before = {api["route"]: api["risk"]["score"] for api in _apis(collector)}
    assert [api["route"] for api in _apis(collector)] == ["/users/{uid}", "/health"]
    assert [api["route"] for api in _apis(collector, sort="route")] == ["/health", "/users/{uid}"]
    now = time.time_ns()
    attacks = [event("enumeration", **{"http.route": "/health", "time_unix_nano": now}) for _ in range(3)]
    assert post_batch(collector, batch(events=attacks)).status_code == 202
    (health,) = [api for api in _apis(collector) if api["route"] == "/health"]
    assert health["recent_attacks"] == 3
    assert health["risk"]["score"] > before["/health"]
    assert any("3 recent attack" in reason for reason in health["risk"]["reasons"])
    page = get(collector, "/v1/apis", limit=1).json()
    assert len(page["apis"]) == 1
    assert get(collector, "/v1/apis", limit=1, cursor=page["next_cursor"]).json()["next_cursor"] is None
    assert get(collector, "/v1/apis", sort="nonsense").status_code == 400


def test_openapi_document_validates_and_unknown_service_is_404(collector: CollectorProcess) -> None:
    _send(
        collector,
        "web-1",
        _user_record(1, headers={"Authorization": JWT}),
        endpoint_record("POST", "/orders", "/orders", json_body={"sku": "a", "quantity": 2}, status=201),
    )
    reply = get(collector, "/v1/openapi.json", service="shop")
    assert reply.status_code == 200
    document = reply.json()
    validate(document)
    assert set(document["paths"]) == {"/users/{uid}", "/orders"}
    assert document["info"]["title"] == "shop"
    missing = get(collector, "/v1/openapi.json", service="nobody")
    assert missing.status_code == 404
    assert "nobody" in missing.json()["error"]
    assert get(collector, "/v1/openapi.json").status_code == 400


def test_a_redelivered_batch_is_merged_once(collector: CollectorProcess) -> None:
    sent = batch(inventory=[_user_record(1)])
    for _ in range(2):
        assert post_batch(collector, sent).status_code == 202
    (users,) = _apis(collector)
    assert users["calls"] == 1


def test_a_malformed_record_is_refused_with_its_path(collector: CollectorProcess) -> None:
    record = _user_record(1)
    record["calls"] = -1
    reply = post_batch(collector, batch(inventory=[_user_record(2), record]))
    assert reply.status_code == 400
    assert reply.json()["path"] == "inventory[1].calls"
    record = _user_record(1)
    record["parameters"]["path"]["uid"]["types"] = ["integer"]
    assert (
        post_batch(collector, batch(inventory=[record])).json()["path"].startswith("inventory[0].parameters")
    )
    assert _apis(collector) == []


def test_first_sighting_within_the_learning_period_reports_no_drift(collector: CollectorProcess) -> None:
    records = [endpoint_record("GET", f"/things{n}", f"/things{n}") for n in range(20)]
    _send(collector, "web-1", *records)
    _send(collector, "web-2", _user_record(1))
    assert len(_apis(collector)) == 21
    assert _drift(collector) == []


def test_changes_after_the_learning_period_are_api_drift_events(eager: CollectorProcess) -> None:
    _send(eager, "web-1", _user_record(1, headers={"Authorization": JWT}))
    (new_endpoint,) = _drift(eager)
    assert new_endpoint["attributes"]["tracesec.drift.kind"] == "new_endpoint"
    assert new_endpoint["attributes"]["http.route"] == "/users/{uid}"
    assert (new_endpoint["service"], new_endpoint["instance_id"]) == ("shop", "web-1")
    _send(eager, "web-2", _user_record("me", query="debug=true"))  # uid now a string; no auth; new param
    found = {
        (event["attributes"]["tracesec.drift.kind"], event["attributes"].get("tracesec.drift.name")): event
        for event in _drift(eager)
        if event["event_id"] != new_endpoint["event_id"]
    }
    assert set(found) == {
        ("new_parameter", "debug"),
        ("type_change", "uid"),
        ("type_change", "200 id"),
        ("auth_removed", None),
    }
    assert found["type_change", "uid"]["attributes"]["tracesec.drift.new_types"] == ["number", "string"]
    assert found["auth_removed", None]["severity"] == "high"
    assert found["new_parameter", "debug"]["severity"] == "low"
    _send(eager, "web-1", _user_record(2, headers={"Authorization": JWT}))  # nothing new
    assert len(_drift(eager)) == 5
