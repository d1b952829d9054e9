"""What the agent learns from finished requests and what it ships."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tracesec.context import RequestContext
from tracesec.discovery import Discovery
from tracesec.discovery.openapi import shape_to_schema

Record = dict[str, Any]
MakeRequest = Callable[..., RequestContext]


def only_record(discovery: Discovery) -> Record:
    records = discovery.snapshot()["inventory"]
    assert len(records) == 1
    return dict(records[0])


def test_endpoint_identity_counts_and_statuses(make_request: MakeRequest) -> None:
    discovery = Discovery()
    for uid, status in ((1, 200), (2, 200), (3, 404)):
        discovery.process(
            make_request(
                "GET", f"/users/{uid}", route="/users/<int:uid>", path_params={"uid": uid}, status=status
            )
        )
    record = only_record(discovery)
    assert (record["service"], record["method"], record["route"]) == ("shop", "GET", "/users/{uid}")
    assert record["route_source"] == "framework"
    assert record["calls"] == 3
    assert record["status_codes"] == {"200": 2, "404": 1}
    assert record["first_seen_unix_nano"] <= record["last_seen_unix_nano"]
    assert shape_to_schema(record["parameters"]["path"]["uid"]) == {"type": "integer"}


def test_unrouted_paths_are_generalised_and_unrouted_404s_ignored(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(make_request("GET", "/orders/17"))
    discovery.process(make_request("GET", "/orders/18"))
    discovery.process(make_request("GET", "/wp-admin/setup.php", status=404))
    record = only_record(discovery)
    assert record["route"] == "/orders/{order_id}"
    assert record["route_source"] == "path"
    assert record["calls"] == 2
    assert shape_to_schema(record["parameters"]["path"]["order_id"]) == {"type": "integer"}
    assert discovery.dropped_requests == 1


def test_query_types_formats_required_and_arrays(make_request: MakeRequest) -> None:
    discovery = Discovery()
    for query in (
        "limit=10&since=2024-03-01&q=lamp&tag=a&tag=b",
        "limit=20&since=2024-03-02&price=9.5",
        "limit=5&since=2024-03-03&price=12",
    ):
        discovery.process(make_request("GET", "/products", route="/products", query=query))
    query = only_record(discovery)["parameters"]["query"]
    assert shape_to_schema(query["limit"]) == {"type": "integer"}
    assert shape_to_schema(query["since"]) == {"type": "string", "format": "date"}
    assert shape_to_schema(query["price"]) == {"type": "number"}
    assert shape_to_schema(query["tag"]) == {"type": "array", "items": {"type": "string"}}
    assert query["limit"]["seen"] == 3 and query["q"]["seen"] == 1


def test_json_body_nested_objects_arrays_required_and_nullable(make_request: MakeRequest) -> None:
    discovery = Discovery()
    bodies = [
        {"sku": "A1", "qty": 2, "gift": False, "note": None, "items": [{"id": 1, "price": 9.99}]},
        {"sku": "B2", "qty": 1, "gift": True, "note": "ring twice", "items": [{"id": 2, "price": 5}]},
        {"sku": "C3", "qty": 4, "items": [{"id": 3, "price": 1.5, "engraving": "hi"}]},
    ]
    for body in bodies:
        discovery.process(make_request("POST", "/orders", route="/orders", json_body=body, status=201))
    schema = shape_to_schema(only_record(discovery)["request_bodies"]["application/json"])
    assert schema["type"] == "object"
    assert schema["required"] == ["sku", "qty", "items"]
    assert schema["properties"]["qty"] == {"type": "integer"}
    assert schema["properties"]["gift"] == {"type": "boolean"}
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    item = schema["properties"]["items"]["items"]
    assert item["required"] == ["id", "price"]
    assert item["properties"]["price"] == {"type": "number"}


def test_small_closed_sets_become_enums_and_open_ones_do_not(make_request: MakeRequest) -> None:
    discovery = Discovery()
    for index in range(12):
        status = ("active", "suspended")[index % 2]
        body = {"status": status, "comment": f"note{index}"}
        discovery.process(make_request("GET", "/accounts", route="/accounts", response=body))
    response = only_record(discovery)["responses"]["200"]["application/json"]
    schema = shape_to_schema(response)
    assert schema["properties"]["status"] == {"type": "string", "enum": ["active", "suspended"]}
    assert schema["properties"]["comment"] == {"type": "string"}


def test_enums_can_be_switched_off(make_request: MakeRequest) -> None:
    discovery = Discovery(infer_enums=False)
    for _ in range(12):
        discovery.process(make_request("GET", "/accounts", route="/accounts", response={"status": "active"}))
    schema = shape_to_schema(only_record(discovery)["responses"]["200"]["application/json"])
    assert schema["properties"]["status"] == {"type": "string"}


def test_form_multipart_and_truncated_bodies(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(
        make_request(
            "POST",
            "/login",
            route="/login",
            body=b"username=ann&password=hunter2&remember=true",
            content_type="application/x-www-form-urlencoded",
        )
    )
    multipart = (
        b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--XyZ--\r\n"
    )
    discovery.process(
        make_request(
            "POST",
            "/photos",
            route="/photos",
            body=multipart,
            content_type="multipart/form-data; boundary=XyZ",
        )
    )
    discovery.process(
        make_request(
            "POST",
            "/notes",
            route="/notes",
            body=b'{"text": "cut her',
            truncated=True,
            json_body=None,
            content_type="application/json",
        )
    )
    records = {r["route"]: r for r in discovery.snapshot()["inventory"]}
    login = shape_to_schema(records["/login"]["request_bodies"]["application/x-www-form-urlencoded"])
    assert login["properties"]["remember"]["type"] == "boolean"
    assert login["properties"]["password"]["x-tracesec-labels"] == ["password"]
    photos = shape_to_schema(records["/photos"]["request_bodies"]["multipart/form-data"])
    assert photos["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert photos["properties"]["title"] == {"type": "string"}
    notes = records["/notes"]["request_bodies"]["application/json"]
    assert notes["seen"] == 1 and shape_to_schema(notes) == {}


def test_header_and_cookie_names_are_kept_but_not_their_values(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(
        make_request(
            "GET",
            "/cart",
            route="/cart",
            headers={
                "X-Tenant": "acme-secret-tenant",
                "User-Agent": "curl/8",
                "Cookie": "sessionid=s3cr3tvalue; theme=dark",
            },
        )
    )
    record = only_record(discovery)
    assert list(record["parameters"]["header"]) == ["x-tenant"]
    assert list(record["parameters"]["cookie"]) == ["theme"]
    assert record["auth"] == {"cookie:sessionid": 1}  # a credential is described by its auth scheme
    shipped = json.dumps(record)
    assert "acme-secret-tenant" not in shipped and "s3cr3tvalue" not in shipped and "dark" not in shipped


def test_auth_schemes(make_request: MakeRequest) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    cases = {
        "basic": {"Authorization": "Basic YW5uOmh1bnRlcjI="},
        "bearer": {"Authorization": "Bearer opaque-token-123"},
        "jwt": {"Authorization": f"Bearer {jwt}"},
        "api_key:header:x-api-key": {"X-Api-Key": "k-123"},
        "cookie:sessionid": {"Cookie": "sessionid=abc"},
        "none": {},
    }
    for expected, headers in cases.items():
        discovery = Discovery()
        discovery.process(make_request("GET", "/me", route="/me", headers=headers))
        assert only_record(discovery)["auth"] == {expected: 1}
    discovery = Discovery()
    discovery.process(make_request("GET", "/feed", route="/feed", query="api_key=abc"))
    assert only_record(discovery)["auth"] == {"api_key:query:api_key": 1}


def test_rejected_requests_teach_responses_but_not_the_request_side(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(
        make_request(
            "GET",
            "/search",
            route="/search",
            query="q=1' OR 1=1--&debug=1",
            status=400,
            response={"detail": "bad query"},
        )
    )
    record = only_record(discovery)
    assert record["parameters"]["query"] == {}
    assert record["auth"] == {}
    assert record["samples"] == 0
    assert shape_to_schema(record["responses"]["400"]["application/json"])["properties"] == {
        "detail": {"type": "string"}
    }


def test_sensitive_labels_are_shipped_without_the_values(make_request: MakeRequest) -> None:
    discovery = Discovery()
    planted = {
        "email": "ann.lee@example.com",
        "card": "4111111111111111",
        "iban": "DE89370400440532013000",
        "ssn": "123-45-6789",
        "first_name": "Ann",
        "birth_date": "1990-04-01",
        "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
        "product": "Widget Pro 3000",
        "count": 3,
        "created_at": "2024-03-01T12:00:00Z",
        "active": True,
    }
    discovery.process(make_request("GET", "/customers/7", route="/customers/{cid}", response=planted))
    record = only_record(discovery)
    schema = shape_to_schema(record["responses"]["200"]["application/json"])
    labels = {name: field.get("x-tracesec-labels") for name, field in schema["properties"].items()}
    assert labels == {
        "email": ["email"],
        "card": ["credit_card"],
        "iban": ["iban"],
        "ssn": ["ssn"],
        "first_name": ["person_name"],
        "birth_date": ["date_of_birth"],
        "token": ["jwt", "secret"],
        "product": None,
        "count": None,
        "created_at": None,
        "active": None,
    }
    assert record["labels"]["response"] == [
        "credit_card",
        "date_of_birth",
        "email",
        "iban",
        "jwt",
        "person_name",
        "secret",
        "ssn",
    ]
    shipped = json.dumps(record)
    for value in planted.values():
        if isinstance(value, str):
            assert value not in shipped


def test_sampling_first_n_then_one_in_m(make_request: MakeRequest) -> None:
    discovery = Discovery(sample_first=3, sample_every=10)
    for _ in range(33):
        discovery.process(make_request("GET", "/ping", route="/ping", query="x=1"))
    record = only_record(discovery)
    assert record["calls"] == 33
    assert record["samples"] == 3 + 3  # requests 1-3, then 13, 23 and 33


def test_snapshot_ships_only_what_changed_since_the_last_one(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(make_request("GET", "/a", route="/a"))
    discovery.process(make_request("GET", "/b", route="/b"))
    assert sorted(r["route"] for r in discovery.snapshot()["inventory"]) == ["/a", "/b"]
    assert discovery.snapshot() == {"inventory": []}
    discovery.process(make_request("GET", "/b", route="/b"))
    (record,) = discovery.snapshot()["inventory"]
    assert (record["route"], record["calls"]) == ("/b", 1)


def test_endpoint_limit_bounds_the_inventory(make_request: MakeRequest) -> None:
    discovery = Discovery(max_endpoints=2)
    for name in ("a", "b", "c", "a"):
        discovery.process(make_request("GET", f"/{name}", route=f"/{name}"))
    assert sorted(r["route"] for r in discovery.snapshot()["inventory"]) == ["/a", "/b"]
    assert discovery.dropped_requests == 1


def test_cors_preflight_is_not_an_endpoint(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(
        make_request(
            "OPTIONS", "/a", route="/a", headers={"Access-Control-Request-Method": "POST"}, status=204
        )
    )
    assert discovery.snapshot() == {"inventory": []}


def test_clients_and_downstream_dependencies(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(make_request("GET", "/pay", route="/pay", downstream={("http", "api.stripe.com")}))
    discovery.process(
        make_request("GET", "/pay", route="/pay", client="10.0.0.5", downstream={("db", "postgresql")})
    )
    record = only_record(discovery)
    assert record["clients"] == {"public": 1, "private": 1}
    assert sorted(record["downstream"]) == [["db", "postgresql"], ["http", "api.stripe.com"]]


def test_records_are_json_serialisable(make_request: MakeRequest) -> None:
    discovery = Discovery()
    discovery.process(make_request("POST", "/x", route="/x", json_body={"a": [1, {"b": None}]}, response=[1]))
    record = only_record(discovery)
    assert json.loads(json.dumps(record)) == record
