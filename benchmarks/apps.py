"""The same small JSON route in Flask, Django and Starlette, callable in-process without a server, so the
benchmarks measure the framework plus tracesec and nothing else."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

USER = {"id": 0, "name": "Ada Lovelace", "email": "ada@example.com", "roles": ["admin", "dev"]}


def flask_app() -> Any:
    from flask import Flask

    app = Flask("bench_flask")

    @app.get("/users/<int:uid>")
    def user(uid: int) -> dict[str, Any]:
        return USER | {"id": uid}

    return app


def django_app() -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="benchmarks.django_urls",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            SECRET_KEY="benchmark-only",
        )
        django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def user(request: Request) -> JSONResponse:
        return JSONResponse(USER | {"id": int(request.path_params["uid"])})

    return Starlette(routes=[Route("/users/{uid:int}", user)])


def _environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "fields=name,email",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench/1.0",
        "HTTP_ACCEPT": "application/json",
        "HTTP_AUTHORIZATION": "Bearer not-a-real-token",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def wsgi_request(app: Any, path: str = "/users/42") -> Callable[[], None]:
    """One full request: call, iterate, close, as a WSGI server would."""

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        assert status.startswith("200"), status

    def request() -> None:
        result = app(_environ(path), start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return request


def asgi_requests(app: Any, path: str = "/users/42") -> Callable[[int], list[float]]:
    """A function serving ``count`` sequential requests on one event loop, returning each one's duration
    in microseconds."""
    import time

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"fields=name,email",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench/1.0"),
            (b"accept", b"application/json"),
            (b"authorization", b"Bearer not-a-real-token"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    async def run(count: int) -> list[float]:
        durations = []
        for _ in range(count):
            start = time.perf_counter_ns()
            await app(dict(scope), receive, send)
            durations.append((time.perf_counter_ns() - start) / 1000)
        return durations

    loop = asyncio.new_event_loop()
    return lambda count: loop.run_until_complete(run(count))
