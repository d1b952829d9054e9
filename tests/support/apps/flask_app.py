"""Flask example app; ``create_app()`` builds a fresh one, ``app`` is the one servers import."""

from __future__ import annotations

from tests.support.apps.switches import GATE_TIMEOUT, HANDLE_ERRORS, MIDDLEWARE, install_if, sql_for

install_if("before")

import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, Response, jsonify, request  # noqa: E402

import tracesec  # noqa: E402
from tracesec.hooks import check_sink  # noqa: E402


def create_app(*, handle_errors: bool = False, middleware: bool = False) -> Flask:
    app = Flask("shop")
    state: dict[str, Any] = {"after_sink": 0, "gate": threading.Event()}
    app.extensions["test_state"] = state

    @app.route("/users/<int:uid>", methods=["GET", "POST"])
    def user(uid: int) -> Any:
        tracesec.set_user(request.headers.get("X-User-Id", str(uid)))
        return jsonify(uid=uid, query=request.args.to_dict(), body=request.get_json(silent=True))

    @app.post("/items/<rid>")
    def item(rid: str) -> Any:
        tracesec.set_user(rid)
        return jsonify(rid=rid, query=request.args.get("id"), body=request.get_json())

    @app.post("/echo")
    def echo() -> Response:
        data = request.get_data()
        return Response(data, content_type=request.content_type or "application/octet-stream")

    @app.post("/json")
    def parse_json() -> Any:
        return jsonify(parsed=request.get_json())

    @app.route("/headers")
    def headers() -> Response:
        response = jsonify(ok=True)
        response.set_cookie("session", "s3cr3t-session")
        return response

    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.route("/sql")
    def sql() -> str:
        try:  # noqa: SIM105  (an app that swallows every Exception)
            check_sink("sql", sql_for(request.args.get("name", "")))
        except Exception:
            pass
        state["after_sink"] += 1
        return "ran"

    @app.route("/ran")
    def ran() -> Any:
        return jsonify(after_sink=state["after_sink"])

    @app.route("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"first\n"
            state["gate"].wait(GATE_TIMEOUT)
            yield b"second\n"

        return Response(chunks(), mimetype="text/plain")

    @app.route("/stream/release")
    def release() -> str:
        state["gate"].set()
        return "released"

    if handle_errors:

        @app.errorhandler(Exception)
        def handled(exc: Exception) -> Any:
            return jsonify(error="handled", type=type(exc).__name__), 500

    if middleware:
        from tracesec.wsgi import TracesecMiddleware

        app.wsgi_app = TracesecMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


app = create_app(handle_errors=HANDLE_ERRORS, middleware=MIDDLEWARE)
install_if("after")
