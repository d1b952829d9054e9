"""A Flask app with the simulator's routes, served with the agent installed from the environment. Each
request says how to answer through test headers (the simulator's status, response size and set_user)."""

from __future__ import annotations

import tracesec

tracesec.install()

from flask import Flask, Response, request  # noqa: E402

app = Flask("replay")


def answer() -> Response:
    request.get_data()  # a login form is read by the app (and so seen by the agent)
    user = request.headers.get("X-Sim-User")
    if user:
        tracesec.set_user(user)
    status = int(request.headers.get("X-Sim-Status", "200"))
    size = int(request.headers.get("X-Sim-Bytes", "2"))
    return Response(b"x" * size, status=status, content_type="application/octet-stream")


@app.route("/api/orders")
@app.route("/api/profile")
@app.route("/api/reports/export")
@app.post("/api/charges")
@app.post("/login")
def plain() -> Response:
    return answer()


@app.route("/api/orders/<order_id>")
def order(order_id: str) -> Response:
    return answer()


@app.route("/api/products/<product_id>")
def product(product_id: str) -> Response:
    return answer()
