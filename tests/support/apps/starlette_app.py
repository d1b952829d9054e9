"""Starlette example app; ``create_app()`` builds a fresh one, ``app`` is the one servers import.
Lifespan: ``TEST_LIFESPAN_FILE`` names a file the startup and shutdown handlers append a line to."""

from __future__ import annotations

from tests.support.apps.switches import GATE_TIMEOUT, HANDLE_ERRORS, MIDDLEWARE, install_if, sql_for

install_if("before")

import contextlib  # noqa: E402
import os  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import anyio  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse  # noqa: E402
from starlette.routing import Mount, Route, WebSocketRoute  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

import tracesec  # noqa: E402
from tracesec.hooks import check_sink  # noqa: E402


def create_app(*, handle_errors: bool = False, middleware: bool = False) -> Starlette:
    state: dict[str, Any] = {"after_sink": 0, "gate": None}

    async def user(request: Request) -> Response:
        uid = request.path_params["uid"]
        tracesec.set_user(request.headers.get("x-user-id", str(uid)))
        raw = await request.body()
        body = await request.json() if raw and "json" in request.headers.get("content-type", "") else None
        return JSONResponse({"uid": uid, "query": dict(request.query_params), "body": body})

    async def item(request: Request) -> Response:
        rid = request.path_params["rid"]
        tracesec.set_user(rid)
        body = await request.json()
        return JSONResponse({"rid": rid, "query": request.query_params.get("id"), "body": body})

    async def echo(request: Request) -> Response:
        data = await request.body()
        return Response(data, media_type=request.headers.get("content-type", "application/octet-stream"))

    async def parse_json(request: Request) -> Response:
        try:
            parsed = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid json"}, status_code=400)
        return JSONResponse({"parsed": parsed})

    async def headers(request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("session", "s3cr3t-session")
        return response

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    def query_users(request: Request) -> Response:
        try:  # noqa: SIM105  (an app that swallows every Exception)
            check_sink("sql", sql_for(request.query_params.get("name", "")))
        except Exception:
            pass
        state["after_sink"] += 1
        return PlainTextResponse("ran")

    async def sql(request: Request) -> Response:
        return query_users(request)

    def sql_sync(request: Request) -> Response:  # runs in the thread pool
        return query_users(request)

    async def ran(request: Request) -> Response:
        return JSONResponse({"after_sink": state["after_sink"]})

    async def stream(request: Request) -> Response:
        gate = state["gate"] = anyio.Event()

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            with anyio.move_on_after(GATE_TIMEOUT):
                await gate.wait()
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def release(request: Request) -> Response:
        if state["gate"] is not None:
            state["gate"].set()
        return PlainTextResponse("released")

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            if text == "bye":
                break
            await websocket.send_text("echo:" + text)
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _lifespan_note("startup")
        yield
        _lifespan_note("shutdown")

    async def handled(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "handled", "type": type(exc).__name__}, status_code=500)

    routes = [
        Route("/users/{uid:int}", user, methods=["GET", "POST"]),
        Route("/items/{rid}", item, methods=["POST"]),
        Route("/echo", echo, methods=["POST"]),
        Route("/json", parse_json, methods=["POST"]),
        Route("/headers", headers),
        Route("/boom", boom),
        Route("/sql", sql),
        Route("/sql-sync", sql_sync),
        Route("/ran", ran),
        Route("/stream", stream),
        Route("/stream/release", release),
        Mount("/api", routes=[Route("/users/{uid}", user, methods=["GET", "POST"])]),
        WebSocketRoute("/ws", socket),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={Exception: handled} if handle_errors else {},
        middleware=[Middleware(_tracesec_middleware())] if middleware else [],
    )
    app.state.test_state = state
    return app


def _tracesec_middleware() -> Any:
    from tracesec.asgi import TracesecMiddleware

    return TracesecMiddleware


def _lifespan_note(what: str) -> None:
    target = os.environ.get("TEST_LIFESPAN_FILE")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(what + "\n")


app = create_app(handle_errors=HANDLE_ERRORS, middleware=MIDDLEWARE)
install_if("after")
