"""The demo's shop API: a small Starlette app with sensitive data, logins, partner API keys and, on
purpose, the classic mistakes tracesec exists to catch (SQL built from input, a shell command, a file
download and a URL fetcher that trust their input, orders readable by id without an owner check).

Never run it anywhere but on a loopback port: it is vulnerable by design."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tracesec.demo import tokens
from tracesec.demo.seed import password_hash

PARTNER_KEYS = ("pk-acme-7Qx2", "pk-globex-9Lm4", "pk-initech-3Rt8", "pk-umbrella-5Kd1", "pk-hooli-2Wz6")
"""API keys of the partners allowed to list customers (sent as ``x-api-key``)."""
TOKEN_SECRET = b"tracesec-demo-shop"
Handler = Callable[[Request], Awaitable[Response]]


def _unauthorised() -> JSONResponse:
    return JSONResponse({"error": "login required"}, status_code=401)


class Shop:
    def __init__(self, data_folder: Path) -> None:
        self.db_path = data_folder / "shop.sqlite"
        self.invoices = data_folder / "invoices"

    def _query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db_path) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params).fetchall()]

    def _customer_id(self, request: Request) -> int | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        subject = tokens.subject_of(TOKEN_SECRET, token) if scheme.lower() == "bearer" else None
        return int(subject) if subject and subject.isdigit() else None

    async def login(self, request: Request) -> Response:
        body = await request.json()
        email, password = str(body.get("email", "")), str(body.get("password", ""))
        rows = self._query("SELECT id, password_hash FROM customers WHERE email = ?", email)
        if not rows or rows[0]["password_hash"] != password_hash(password):
            return JSONResponse({"error": "wrong email or password"}, status_code=401)
        return JSONResponse({"token": tokens.issue(TOKEN_SECRET, str(rows[0]["id"])), "token_type": "bearer"})

    async def me(self, request: Request) -> Response:
        customer = self._customer_id(request)
        if customer is None:
            return _unauthorised()
        rows = self._query(
            "SELECT id, email, first_name, last_name, phone, address FROM customers WHERE id = ?", customer
        )
        return JSONResponse(rows[0])

    async def products(self, request: Request) -> Response:
        limit = min(int(request.query_params.get("limit", "20")), 100)
        return JSONResponse({"products": self._query("SELECT * FROM products LIMIT ?", limit)})

    async def search(self, request: Request) -> Response:
        """Mistake 1: SQL built by pasting the search text into the query."""
        text = request.query_params.get("q", "")
        found = self._query(f"SELECT id, name, price FROM products WHERE name LIKE '%{text}%'")
        return JSONResponse({"query": text, "products": found})

    async def my_orders(self, request: Request) -> Response:
        customer = self._customer_id(request)
        if customer is None:
            return _unauthorised()
        return JSONResponse({"orders": self._query("SELECT * FROM orders WHERE customer_id = ?", customer)})

    async def order(self, request: Request) -> Response:
        """Mistake 2: any logged-in customer can read any order (no owner check), card number included."""
        if self._customer_id(request) is None:
            return _unauthorised()
        rows = self._query(
            "SELECT o.id, o.quantity, o.total, o.status, c.email, c.address, c.card_number "
            "FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = ?",
            request.path_params["order_id"],
        )
        return JSONResponse(rows[0]) if rows else JSONResponse({"error": "no such order"}, status_code=404)

    async def place_order(self, request: Request) -> Response:
        customer = self._customer_id(request)
        if customer is None:
            return _unauthorised()
        body = await request.json()
        return JSONResponse(
            {"id": 9000 + customer, "product_id": body.get("product_id"), "status": "accepted"},
            status_code=201,
        )

    async def receipt(self, request: Request) -> Response:
        """Mistake 3: a shell command with the order number pasted in."""
        order = request.query_params.get("order", "")
        command = f"printf 'Receipt for order %s\\n' {order}"
        result = subprocess.run(command, shell=True, capture_output=True, timeout=5, check=False)
        return PlainTextResponse(result.stdout.decode(errors="replace"))

    async def invoice(self, request: Request) -> Response:
        """Mistake 4: a file name from the query joined to the invoices folder as it is."""
        name = request.query_params.get("file", "")
        try:
            with open(f"{self.invoices}/{name}", encoding="utf-8") as invoice:
                return PlainTextResponse(invoice.read())
        except OSError:
            return JSONResponse({"error": "no such invoice"}, status_code=404)

    async def preview(self, request: Request) -> Response:
        """Mistake 5: fetches whatever URL it is given (a link preview), internal addresses included."""
        url = request.query_params.get("url", "")
        try:
            reply = httpx.get(url, timeout=2.0)
        except httpx.HTTPError as exc:
            return JSONResponse({"url": url, "error": str(exc)}, status_code=502)
        return JSONResponse({"url": url, "status": reply.status_code, "preview": reply.text[:200]})

    async def customers(self, request: Request) -> Response:
        """Partners list customers with their API key; nothing bounds how many they take."""
        if request.headers.get("x-api-key") not in PARTNER_KEYS:
            return JSONResponse({"error": "partner API key required"}, status_code=401)
        limit = int(request.query_params.get("limit", "20"))
        rows = self._query("SELECT id, email, first_name, last_name, phone FROM customers LIMIT ?", limit)
        return JSONResponse({"customers": rows})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    def routes(self) -> list[Route]:
        return [
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/me", self.me),
            Route("/api/products", self.products),
            Route("/api/search", self.search),
            Route("/api/orders", self.my_orders),
            Route("/api/orders", self.place_order, methods=["POST"]),
            Route("/api/orders/{order_id:int}", self.order),
            Route("/api/receipt", self.receipt),
            Route("/api/invoices/download", self.invoice),
            Route("/api/preview", self.preview),
            Route("/api/partner/customers", self.customers),
            Route("/health", self.health),
        ]


def create_app(data_folder: Path) -> Starlette:
    return Starlette(routes=Shop(data_folder).routes())
