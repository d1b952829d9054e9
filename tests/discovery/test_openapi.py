"""The inferred OpenAPI 3.1 document: valid, and documenting parameters and bodies the way FastAPI does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate
from pydantic import BaseModel

from tracesec.context import RequestContext
from tracesec.discovery import Discovery, build_openapi, merge_endpoint_records

MakeRequest = Callable[..., RequestContext]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def shop_traffic(make_request: MakeRequest) -> list[RequestContext]:
    """A small shop API: listing with query parameters, item lookup, order creation, login, a raw path."""
    requests = []
    for page, category in ((1, "lamps"), (2, "chairs"), (3, "lamps")):
        requests.append(
            make_request(
                "GET",
                "/items",
                route="/items",
                query=f"page={page}&category={category}" + ("&in_stock=true" if page == 2 else ""),
                response=[{"id": page, "name": "Desk Lamp", "price": 19.5, "tags": ["home"]}],
            )
        )
    for item_id in (7, 8):
        requests.append(
            make_request(
                "GET",
                f"/items/{item_id}",
                route="/items/{item_id}",
                path_params={"item_id": str(item_id)},
                headers={"Authorization": f"Bearer {JWT}", "X-Request-Id": "abc"},
                response={"id": item_id, "name": "Desk Lamp", "price": 19.5, "tags": []},
            )
        )
    requests.append(
        make_request(
            "GET", "/items/999", route="/items/{item_id}", status=404, response={"detail": "Not Found"}
        )
    )
    for customer in ("ann@example.com", "bob@example.com"):
        requests.append(
            make_request(
                "POST",
                "/orders",
                route="/orders",
                headers={"X-Api-Key": "k-123"},
                json_body={
                    "item_id": 7,
                    "quantity": 2,
                    "email": customer,
                    "shipping": {"street": "1 Main Street", "postcode": "12345"},
                    "card_number": "4111111111111111",
                },
                status=201,
                response={"order_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "total": 39.0},
            )
        )
    requests.append(
        make_request(
            "POST",
            "/login",
            route="/login",
            body=b"username=ann&password=hunter2",
            content_type="application/x-www-form-urlencoded",
            headers={"Cookie": "sessionid=abc"},
            response={"ok": True},
        )
    )
    requests.append(make_request("DELETE", "/legacy/carts/42", status=204, response_type=""))
    return requests


def infer(requests: list[RequestContext]) -> dict[str, Any]:
    discovery = Discovery()
    for ctx in requests:
        discovery.process(ctx)
    return build_openapi("shop", discovery.snapshot()["inventory"])


def test_inferred_document_is_valid_openapi_3_1(make_request: MakeRequest) -> None:
    document = infer(shop_traffic(make_request))
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/items",
        "/items/{item_id}",
        "/orders",
        "/login",
        "/legacy/carts/{cart_id}",
    }


def test_operations_describe_parameters_bodies_responses_and_security(make_request: MakeRequest) -> None:
    paths = infer(shop_traffic(make_request))["paths"]
    listing = {p["name"]: p for p in paths["/items"]["get"]["parameters"]}
    assert listing["page"] == {"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}}
    assert listing["in_stock"]["required"] is False
    assert listing["in_stock"]["schema"] == {"type": "boolean"}
    assert paths["/items"]["get"]["security"] == [{}]

    lookup = paths["/items/{item_id}"]["get"]
    assert lookup["parameters"][0] == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert {"name": "x-request-id", "in": "header", "required": True, "schema": {"type": "string"}} in lookup[
        "parameters"
    ]
    assert lookup["security"] == [{"bearerJWT": []}]
    assert set(lookup["responses"]) == {"200", "404"}
    assert lookup["responses"]["404"]["description"] == "Not Found"

    order = paths["/orders"]["post"]
    body = order["requestBody"]["content"]["application/json"]["schema"]
    assert order["requestBody"]["required"] is True
    assert body["required"] == ["item_id", "quantity", "email", "shipping", "card_number"]
    assert body["properties"]["email"] == {
        "type": "string",
        "format": "email",
        "x-tracesec-labels": ["email"],
    }
    assert body["properties"]["shipping"]["properties"]["postcode"]["x-tracesec-labels"] == ["address"]
    assert order["security"] == [{"apiKey_header_x-api-key": []}]
    assert "parameters" not in order  # the API key header is described by its security scheme
    created = order["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["properties"]["order_id"] == {"type": "string", "format": "uuid"}
    assert order["x-tracesec-labels"] == {"request": ["address", "credit_card", "email"], "response": []}


def test_security_schemes_are_declared(make_request: MakeRequest) -> None:
    schemes = infer(shop_traffic(make_request))["components"]["securitySchemes"]
    assert schemes == {
        "apiKey_header_x-api-key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        "bearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "cookie_sessionid": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }


def test_records_from_several_processes_build_one_operation(make_request: MakeRequest) -> None:
    traffic = shop_traffic(make_request)
    halves = []
    for part in (traffic[::2], traffic[1::2]):
        discovery = Discovery()
        for ctx in part:
            discovery.process(ctx)
        halves.extend(discovery.snapshot()["inventory"])
    document = build_openapi("shop", halves)
    validate(document)
    assert document["paths"]["/items"]["get"]["x-tracesec-calls"] == 3
    assert build_openapi("other-service", halves)["paths"] == {}
    merged = merge_endpoint_records(r for r in halves if r["route"] == "/items")
    assert merged["calls"] == 3


class Shipping(BaseModel):
    street: str
    postcode: str


class Order(BaseModel):
    item_id: int
    quantity: int
    email: str
    shipping: Shipping
    card_number: str


def fastapi_shop() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    def list_items(page: int, category: str, in_stock: bool | None = None) -> list[dict[str, Any]]:
        return []

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> dict[str, Any]:
        return {}

    @app.post("/orders", status_code=201)
    def create_order(order: Order) -> dict[str, Any]:
        return {}

    return app


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return resolve(document, document["components"]["schemas"][name])
    return schema


def value_types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = resolve(document, schema)
    if "anyOf" in schema:
        return set().union(*(value_types(document, s) for s in schema["anyOf"])) - {"null"}
    return {schema["type"]}


def object_fields(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, tuple[set[str], bool]]:
    """{field: (types, required)} of an object schema, nested fields as dotted paths."""
    schema = resolve(document, schema)
    fields = {}
    for name, field in schema["properties"].items():
        fields[name] = (value_types(document, field), name in schema.get("required", []))
        if resolve(document, field).get("type") == "object":
            fields.update({f"{name}.{k}": v for k, v in object_fields(document, field).items()})
    return fields


@pytest.mark.parametrize(
    ("path", "method"), [("/items", "get"), ("/items/{item_id}", "get"), ("/orders", "post")]
)
def test_parameters_and_bodies_line_up_with_fastapi(
    make_request: MakeRequest, path: str, method: str
) -> None:
    declared = fastapi_shop().openapi()
    inferred = infer(shop_traffic(make_request))
    ours, theirs = inferred["paths"][path][method], declared["paths"][path][method]

    def parameters(operation: dict[str, Any], document: dict[str, Any]) -> dict[tuple[str, str], Any]:
        return {
            (p["in"], p["name"]): (value_types(document, p["schema"]), p["required"])
            for p in operation.get("parameters", [])
            if p["in"] in ("path", "query")
        }

    assert parameters(ours, inferred) == parameters(theirs, declared)
    if "requestBody" in theirs:
        media = "application/json"
        assert ours["requestBody"]["required"] == theirs["requestBody"]["required"]
        assert object_fields(inferred, ours["requestBody"]["content"][media]["schema"]) == object_fields(
            declared, theirs["requestBody"]["content"][media]["schema"]
        )
