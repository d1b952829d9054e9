"""A Starlette app with one string-built SQL query, for the runtime-protection tests."""

from __future__ import annotations

import sqlite3

import tracesec

tracesec.install()

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402


async def search(request: Request) -> JSONResponse:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    query = f"SELECT id FROM users WHERE name = '{request.query_params.get('name', '')}'"
    return JSONResponse(db.execute(query).fetchall())


app = Starlette(routes=[Route("/users/search", search)])
