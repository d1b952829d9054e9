"""A FastAPI app with tracesec as explicit ASGI middleware (auto-instrumentation would also do).

Run it:  uvicorn examples.fastapi_app:app --port 8000
   or:   tracesec-run uvicorn examples.fastapi_app:app --port 8000   (then the middleware line is optional)
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from tracesec.asgi import TracesecMiddleware

app = FastAPI(title="orders")
app.add_middleware(TracesecMiddleware)  # installs the agent from TRACESEC_* settings if nothing did


class Order(BaseModel):
    item: str
    quantity: int = 1


ORDERS: dict[int, Order] = {}


@app.post("/orders")
async def create_order(order: Order) -> dict[str, int]:
    order_id = len(ORDERS) + 1
    ORDERS[order_id] = order
    return {"id": order_id}


@app.get("/orders/{order_id}")
async def read_order(order_id: int) -> Order:
    return ORDERS[order_id]
