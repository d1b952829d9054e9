"""End to end: a FastAPI app served by uvicorn with the agent, real traffic, a collector process; the OpenAPI
document the collector infers must match the app's real routes and parameter types (FastAPI's own spec is
the reference), and sensitive fields must be labelled while innocuous ones are not."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from openapi_spec_validator import validate

from tests.support.servers import free_port, serve, uvicorn
from tracesec.collector.process import CollectorProcess

API_KEY = "discovery-key"
SHOP = """
from typing import Optional
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="shop")
USERS = {
    n: {"id": n, "name": f"User {n}", "email": f"user{n}@example.com", "phone": "+1 415 555 0100",
        "card": "4111 1111 1111 1111", "active": True}
    for n in range(1, 40)
}

class Order(BaseModel):
    item: str
    quantity: int
    note: Optional[str] = None

@app.get("/users/{user_id}")
def get_user(user_id: int, fields: Optional[str] = None):
    return USERS[user_id]

@app.post("/orders")
def create_order(order: Order):
    return {"id": 7, "status": "created", "item": order.item}

@app.get("/products")
def list_products(limit: int = 10):
    return [{"id": n, "title": f"Chair {n}", "price": 19.5 + n, "in_stock": n % 2 == 0} for n in range(limit)]
"""


def _load_app(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("shop_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def _drive(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        for n in range(1, 31):
            assert client.get(f"/users/{n}", params={"fields": "email"} if n % 2 else None).status_code == 200
            order = {"item": f"chair-{n}", "quantity": n, **({"note": "gift"} if n % 3 == 0 else {})}
            assert client.post("/orders", json=order).status_code == 200
            assert client.get("/products", params={"limit": n % 5 + 1}).status_code == 200


def _inferred_spec(collector: CollectorProcess, expected_routes: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        apis = httpx.get(f"{collector.url}/v1/apis", params={"service": "shop"}, headers=collector.headers)
        if apis.status_code == 200 and len(apis.json()["apis"]) >= expected_routes:
            spec = httpx.get(
                f"{collector.url}/v1/openapi.json", params={"service": "shop"}, headers=collector.headers
            )
            assert spec.status_code == 200, spec.text
            document: dict[str, Any] = spec.json()
            return document
        time.sleep(0.2)
    raise AssertionError(
        f"the collector never listed {expected_routes} endpoints: {collector.output()[-2000:]}"
    )


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(p["in"], p["name"]): _type(p["schema"]) for p in operation.get("parameters", [])}


def _type(schema: dict[str, Any]) -> str:
    """The JSON type a schema names (FastAPI writes Optional as anyOf [T, null])."""
    if "type" in schema:
        return str(schema["type"])
    return next(str(option["type"]) for option in schema.get("anyOf", []) if option.get("type") != "null")


def _body_properties(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, str]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return {name: _type(prop) for name, prop in schema["properties"].items()}


def test_inferred_openapi_matches_fastapis_own_and_labels_sensitive_fields(tmp_path: Path) -> None:
    app_file = tmp_path / "shop.py"
    app_file.write_text(SHOP)
    port = free_port()
    with CollectorProcess(tmp_path / "collector.sqlite", api_key=API_KEY) as collector:
        env = {
            "PYTHONPATH": str(tmp_path),
            "TRACESEC_SERVICE": "shop",
            "TRACESEC_ENDPOINT": collector.url,
            "TRACESEC_API_KEY": API_KEY,
            "TRACESEC_FLUSH_INTERVAL": "0.2",
            "TRACESEC_BEHAVIOR": "false",
        }
        launcher = str(Path(sys.executable).with_name("tracesec-run"))
        with serve([launcher, *uvicorn("shop:app", port)], port, env, cwd=tmp_path) as server:
            _drive(server.url)
            inferred = _inferred_spec(collector, expected_routes=3)
        apis = httpx.get(
            f"{collector.url}/v1/apis", params={"service": "shop"}, headers=collector.headers
        ).json()

    validate(inferred)  # a valid OpenAPI 3.1 document
    reference = _load_app(app_file).openapi()
    assert set(inferred["paths"]) == set(reference["paths"])
    for path, operations in reference["paths"].items():
        assert set(inferred["paths"][path]) == set(operations), path
        for method, operation in operations.items():
            mine = inferred["paths"][path][method]
            assert _parameters(mine) == _parameters(operation), f"{method.upper()} {path}"
            if "requestBody" in operation:
                assert _body_properties(inferred, mine) == _body_properties(reference, operation)

    labels = {(api["method"], api["route"]): set(api["labels"]["response"]) for api in apis["apis"]}
    assert {"email", "phone", "credit_card"} <= labels[("GET", "/users/{user_id}")]
    assert labels[("GET", "/products")] == set()
