"""The analysis-side functions: merging records from many processes, drift between versions, risk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tracesec.context import RequestContext
from tracesec.discovery import Discovery, diff_inventory, merge_endpoint_records, risk
from tracesec.discovery.openapi import shape_to_schema

MakeRequest = Callable[..., RequestContext]
Record = dict[str, Any]


def learn(*requests: RequestContext) -> Record:
    """The record one process ships after serving ``requests`` (all of one endpoint)."""
    discovery = Discovery()
    for ctx in requests:
        discovery.process(ctx)
    (record,) = discovery.snapshot()["inventory"]
    return dict(record)


def user_lookup(make_request: MakeRequest, uid: Any, **options: Any) -> RequestContext:
    options.setdefault("response", {"id": uid, "email": "ann@example.com"})
    return make_request("GET", f"/users/{uid}", route="/users/{uid}", path_params={"uid": uid}, **options)


def test_merging_records_from_two_processes_equals_one_process_seeing_everything(
    make_request: MakeRequest,
) -> None:
    first = [user_lookup(make_request, 1, query="expand=1"), user_lookup(make_request, 2, status=404)]
    second = [
        user_lookup(make_request, 3, headers={"Authorization": "Basic YTpi"}),
        user_lookup(make_request, 4, downstream={("db", "sqlite")}),
    ]
    merged = merge_endpoint_records([learn(*first), learn(*second)])
    together = learn(*first, *second)
    for volatile in ("first_seen_unix_nano", "last_seen_unix_nano"):
        merged.pop(volatile)
        together.pop(volatile)
    assert merged == together
    assert merged["calls"] == 4
    assert merged["status_codes"] == {"200": 3, "404": 1}
    assert merged["auth"] == {"none": 2, "basic": 1}
    assert merged["labels"]["response"] == ["email"]


def test_merge_takes_earliest_first_seen_and_latest_last_seen(make_request: MakeRequest) -> None:
    early, late = learn(user_lookup(make_request, 1)), learn(user_lookup(make_request, 2))
    early["first_seen_unix_nano"], early["last_seen_unix_nano"] = 100, 200
    late["first_seen_unix_nano"], late["last_seen_unix_nano"] = 150, 300
    merged = merge_endpoint_records([late, early])
    assert (merged["first_seen_unix_nano"], merged["last_seen_unix_nano"]) == (100, 300)


def test_merge_does_not_modify_its_inputs(make_request: MakeRequest) -> None:
    one, two = learn(user_lookup(make_request, 1)), learn(user_lookup(make_request, "x"))
    merge_endpoint_records([one, two])
    assert one["calls"] == 1
    assert shape_to_schema(one["parameters"]["path"]["uid"]) == {"type": "integer"}


def test_merged_types_and_enums_widen(make_request: MakeRequest) -> None:
    ints = learn(user_lookup(make_request, 1))
    strings = learn(user_lookup(make_request, "me"))
    merged = merge_endpoint_records([ints, strings])
    assert shape_to_schema(merged["parameters"]["path"]["uid"])["anyOf"] == [
        {"type": "string"},
        {"type": "integer"},
    ]


def test_merging_different_endpoints_is_refused(make_request: MakeRequest) -> None:
    users = learn(user_lookup(make_request, 1))
    other = learn(make_request("GET", "/orders", route="/orders"))
    with pytest.raises(ValueError, match="different endpoints"):
        merge_endpoint_records([users, other])


def test_a_new_endpoint_is_drift(make_request: MakeRequest) -> None:
    (finding,) = diff_inventory(None, learn(user_lookup(make_request, 1)))
    assert finding["type"] == "api_drift"
    assert finding["drift"] == "new_endpoint"
    assert (finding["method"], finding["route"]) == ("GET", "/users/{uid}")


def test_unchanged_traffic_is_no_drift(make_request: MakeRequest) -> None:
    old = learn(user_lookup(make_request, 1, query="expand=1"))
    new = merge_endpoint_records([old, learn(user_lookup(make_request, 2, query="expand=0"))])
    assert diff_inventory(old, new) == []


def test_new_parameters_and_body_fields_are_drift(make_request: MakeRequest) -> None:
    old = learn(make_request("POST", "/orders", route="/orders", json_body={"sku": "A"}))
    new = merge_endpoint_records(
        [
            old,
            learn(
                make_request(
                    "POST", "/orders", route="/orders", query="debug=1", json_body={"sku": "A", "admin": True}
                )
            ),
        ]
    )
    found = {(f["drift"], f["location"], f["name"]) for f in diff_inventory(old, new)}
    assert found == {("new_parameter", "query", "debug"), ("new_parameter", "body", "admin")}


def test_type_changes_are_drift_but_integer_to_number_is_not(make_request: MakeRequest) -> None:
    def order(qty: Any, price: Any) -> RequestContext:
        return make_request("POST", "/orders", route="/orders", json_body={"qty": qty, "price": price})

    old = learn(order(1, 5))
    new = merge_endpoint_records([old, learn(order("one", 5.5))])
    (finding,) = diff_inventory(old, new)
    assert (finding["drift"], finding["name"]) == ("type_change", "qty")
    assert (finding["old_types"], finding["new_types"]) == (["number"], ["number", "string"])


def test_auth_dropping_to_none_is_drift(make_request: MakeRequest) -> None:
    old = learn(user_lookup(make_request, 1, headers={"Authorization": "Bearer abc"}))
    still = merge_endpoint_records(
        [old, learn(user_lookup(make_request, 2, headers={"Authorization": "Bearer x"}))]
    )
    assert diff_inventory(old, still) == []
    dropped = merge_endpoint_records([old, learn(user_lookup(make_request, 3))])
    (finding,) = diff_inventory(old, dropped)
    assert finding["drift"] == "auth_removed"
    assert finding["old_auth"] == ["bearer"]


def test_an_unauthenticated_internet_facing_write_returning_cards_scores_high(
    make_request: MakeRequest,
) -> None:
    record = learn(
        make_request(
            "POST",
            "/payments",
            route="/payments",
            json_body={"amount": 5},
            response={"card": "4111111111111111"},
        )
    )
    score, reasons = risk(record, recent_attack_count=3)
    assert score >= 80
    assert any("credit_card" in reason for reason in reasons)
    assert any("no authentication" in reason for reason in reasons)
    assert any("internet-facing" in reason for reason in reasons)
    assert any("POST" in reason for reason in reasons)
    assert any("attack" in reason for reason in reasons)


def test_an_internal_authenticated_read_of_products_scores_low(make_request: MakeRequest) -> None:
    record = learn(
        make_request(
            "GET",
            "/products",
            route="/products",
            client="10.1.2.3",
            headers={"Authorization": "Bearer abc"},
            response=[{"name": "Widget Pro", "price": 9.5, "in_stock": True}],
        )
    )
    assert risk(record) == (0, [])


def test_risk_grows_with_each_factor(make_request: MakeRequest) -> None:
    authenticated = learn(user_lookup(make_request, 1, headers={"Authorization": "Bearer abc"}))
    anonymous = learn(user_lookup(make_request, 1))
    assert risk(anonymous)[0] > risk(authenticated)[0]
    assert risk(authenticated, recent_attack_count=10)[0] > risk(authenticated)[0]
    assert 0 <= risk(anonymous, recent_attack_count=10**9)[0] <= 100
