"""The explicit middlewares (WSGI, ASGI, Django MIDDLEWARE) trace alone, never double-trace together with
the automatic integrations, and leave websocket and lifespan traffic alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.conftest import Framework, Traced
from tests.support.apps.starlette_app import create_app as create_starlette
from tests.support.clients import asgi_client

INTEGRATION = {"flask": "flask", "starlette": "starlette", "django-wsgi": "django", "django-asgi": "django"}


def test_middleware_and_integration_together_make_one_span(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced()
    client = framework.client(middleware=True)
    response = client.post("/users/9?q=1", json={"n": 1})
    assert response.status_code == 200
    span = recorder.span()
    attributes = span["attributes"]
    assert attributes["http.route"] == framework.user_route
    assert attributes["url.path"] == "/users/9"
    assert attributes["enduser.id"] == "9"
    assert attributes["http.request.body.size"] == len(b'{"n":1}')
    assert attributes["tracesec.framework"] in (framework.span_framework, framework.middleware_framework)


def test_middleware_alone_traces_with_the_integration_disabled(
    framework: Framework, traced: Callable[..., Traced]
) -> None:
    recorder = traced(disabled_integrations=INTEGRATION[framework.name])
    client = framework.client(middleware=True)
    response = client.post(
        "/users/4?q=shoes", json={"password": "pw-123456"}, headers={"Authorization": "Bearer abcdefgh1234"}
    )
    assert response.status_code == 200
    assert response.json()["body"] == {"password": "pw-123456"}
    attributes = recorder.span()["attributes"]
    assert attributes["tracesec.framework"] == framework.middleware_framework
    assert attributes["http.request.method"] == "POST"
    assert attributes["url.path"] == "/users/4"
    assert attributes["url.query"] == "q=shoes"
    assert attributes["http.response.status_code"] == 200
    assert attributes["enduser.id"] == "4"
    assert attributes["http.request.header.authorization"] == ["[REDACTED]"]
    assert '"password": "[REDACTED]"' in attributes["tracesec.request.body"]
    assert attributes["http.response.body.size"] == len(response.content)


@pytest.mark.parametrize("middleware", [False, True], ids=["auto", "middleware"])
def test_websocket_and_lifespan_pass_through(
    traced: Callable[..., Traced], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, middleware: bool
) -> None:
    notes = tmp_path / "lifespan.txt"
    monkeypatch.setenv("TEST_LIFESPAN_FILE", str(notes))
    recorder = traced()
    with asgi_client(create_starlette(middleware=middleware)) as client:
        assert notes.read_text() == "startup\n"
        with client.websocket_connect("/ws") as socket:
            socket.send_text("hello")
            assert socket.receive_text() == "echo:hello"
            socket.send_text("again")
            assert socket.receive_text() == "echo:again"
            socket.send_text("bye")
        assert client.get("/users/1").status_code == 200
    assert notes.read_text() == "startup\nshutdown\n"
    spans = recorder.spans()
    assert [s["attributes"]["url.path"] for s in spans] == ["/users/1"]  # no span for ws or lifespan


def test_mount_prefix_is_part_of_the_route(traced: Callable[..., Traced]) -> None:
    recorder = traced()
    asgi_client(create_starlette()).get("/api/users/abc")
    span = recorder.span()
    assert span["attributes"]["http.route"] == "/api/users/{uid}"
    assert span["name"] == "GET /api/users/{uid}"


def test_django_include_prefix_is_part_of_the_route(traced: Callable[..., Traced]) -> None:
    from tests.core.conftest import FRAMEWORKS

    recorder = traced()
    django = next(f for f in FRAMEWORKS if f.name == "django-wsgi")
    django.client().get("/api/users/5")
    assert recorder.span()["attributes"]["http.route"] == "/api/users/<int:uid>"
