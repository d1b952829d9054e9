"""install()/uninstall(): idempotent, import order does not matter, every patch is undone, mode=off and
disabled integrations patch nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django.core.handlers.asgi
import django.core.handlers.base
import django.core.handlers.wsgi
import fastapi.routing
import flask
import flask.ctx
import pytest
import starlette.applications
import starlette.routing

import tracesec
from tests.core.conftest import Traced
from tests.support.apps.flask_app import create_app
from tests.support.records import server_spans
from tests.support.servers import server_environment
from tracesec.agent import active

CLASSES = [
    flask.Flask,
    flask.ctx.RequestContext,
    django.core.handlers.wsgi.WSGIHandler,
    django.core.handlers.asgi.ASGIHandler,
    django.core.handlers.base.BaseHandler,
    starlette.applications.Starlette,
    starlette.routing.Route,
    starlette.routing.Mount,
    fastapi.routing.APIRoute,
]
"""Every class the web-framework integrations may patch."""
ENTRY_POINTS = [
    (flask.Flask, "wsgi_app"),
    (django.core.handlers.wsgi.WSGIHandler, "__call__"),
    (django.core.handlers.asgi.ASGIHandler, "__call__"),
    (starlette.applications.Starlette, "__call__"),
]
"""The request entry points every install must wrap."""


def class_attributes() -> list[tuple[type, str, Any]]:
    return [(owner, name, value) for owner in CLASSES for name, value in vars(owner).items()]


def unchanged(snapshot: list[tuple[type, str, Any]]) -> bool:
    """Every attribute of every class is the very same object as in ``snapshot``, and no attribute was
    added or removed."""
    now = class_attributes()
    return len(now) == len(snapshot) and all(
        a[0] is b[0] and a[1] == b[1] and a[2] is b[2] for a, b in zip(now, snapshot, strict=True)
    )


def entry_points_wrapped(snapshot: list[tuple[type, str, Any]]) -> list[bool]:
    before = {(owner, name): value for owner, name, value in snapshot}
    return [vars(owner)[name] is not before[(owner, name)] for owner, name in ENTRY_POINTS]


def test_install_is_idempotent(tmp_path: Path) -> None:
    first = tracesec.install(endpoint=f"file://{tmp_path}/a.jsonl")
    second = tracesec.install(endpoint=f"file://{tmp_path}/b.jsonl", mode="block")
    assert second is first
    assert second.config.mode == "monitor"  # the later overrides are ignored, not half-applied
    wrapped = len(first.integrations.patcher)
    assert wrapped >= len(ENTRY_POINTS)
    tracesec.install()
    assert len(first.integrations.patcher) == wrapped  # nothing wrapped twice
    tracesec.uninstall()
    tracesec.uninstall()  # a second uninstall is harmless
    assert active() is None


def test_uninstall_restores_the_very_same_objects(traced: Callable[..., Traced]) -> None:
    before = class_attributes()
    traced()
    assert all(entry_points_wrapped(before))
    assert not unchanged(before)
    tracesec.uninstall()
    assert unchanged(before)


def test_after_uninstall_requests_are_not_traced_and_reinstall_traces_again(
    traced: Callable[..., Traced],
) -> None:
    app = create_app()
    first = traced()
    assert app.test_client().get("/users/1", buffered=True).status_code == 200
    assert len(first.spans()) == 1
    tracesec.uninstall()
    assert app.test_client().get("/users/2", buffered=True).status_code == 200
    assert len(server_spans(first.path)) == 1
    second = traced()
    assert app.test_client().get("/users/3", buffered=True).status_code == 200
    assert [s["attributes"]["url.path"] for s in second.spans()] == ["/users/1", "/users/3"]


def test_mode_off_patches_nothing(traced: Callable[..., Traced]) -> None:
    before = class_attributes()
    off = traced(mode="off")
    assert unchanged(before)
    assert create_app().test_client().get("/users/1", buffered=True).status_code == 200
    assert off.spans() == []


def test_mode_off_from_environment(monkeypatch: pytest.MonkeyPatch, traced: Callable[..., Traced]) -> None:
    monkeypatch.setenv("TRACESEC_MODE", "off")
    before = class_attributes()
    assert traced().agent.enabled is False
    assert unchanged(before)


def test_disabled_integration_is_not_patched(
    monkeypatch: pytest.MonkeyPatch, traced: Callable[..., Traced]
) -> None:
    monkeypatch.setenv("TRACESEC_DISABLED_INTEGRATIONS", "flask")
    before = class_attributes()
    recorder = traced()
    assert entry_points_wrapped(before) == [False, True, True, True]
    flask_classes = (flask.Flask, flask.ctx.RequestContext)
    assert all(vars(owner)[name] is value for owner, name, value in before if owner in flask_classes)
    assert create_app().test_client().get("/users/1", buffered=True).status_code == 200
    assert recorder.spans() == []


PROBE = """
import json, sys
app_path, kind, path = sys.argv[1:4]
module_name, attribute = app_path.split(":")
import importlib
app = getattr(importlib.import_module(module_name), attribute)
if kind == "wsgi":
    from werkzeug.test import Client
    response = Client(app).get(path)
    status = response.status_code
    response.close()
else:
    from starlette.testclient import TestClient
    status = TestClient(app).get(path).status_code
import tracesec.agent
tracesec.agent.active().exporter.flush(10)
print(json.dumps({"status": status}))
"""

APPS = [
    ("tests.support.apps.flask_app:app", "wsgi", "/users/5", "/users/<int:uid>", "flask"),
    ("tests.support.apps.starlette_app:app", "asgi", "/api/users/5", "/api/users/{uid}", "starlette"),
    ("tests.support.apps.fastapi_app:app", "asgi", "/v1/users/5", "/v1/users/{uid}", "starlette"),
    ("tests.support.apps.djangoproj.wsgi:application", "wsgi", "/users/5", "/users/<int:uid>", "django"),
    ("tests.support.apps.djangoproj.asgi:application", "asgi", "/users/5", "/users/<int:uid>", "django"),
]


def probe(tmp_path: Path, app: str, kind: str, path: str, moment: str) -> dict[str, Any]:
    """Serve one request in a fresh interpreter where tracesec is installed ``moment`` the framework."""
    spans_path = tmp_path / f"{moment}.jsonl"
    env = server_environment({"TEST_TRACESEC_INSTALL": moment, "TRACESEC_ENDPOINT": f"file://{spans_path}"})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, app, kind, path],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == 200
    spans = server_spans(spans_path)
    assert len(spans) == 1, (spans, done.stderr)
    return spans[0]


@pytest.mark.parametrize(("app", "kind", "path", "route", "framework"), APPS)
def test_framework_imported_before_or_after_install_is_instrumented_alike(
    tmp_path: Path, app: str, kind: str, path: str, route: str, framework: str
) -> None:
    spans = {moment: probe(tmp_path, app, kind, path, moment) for moment in ("before", "after")}
    for span in spans.values():
        attributes = span["attributes"]
        assert attributes["http.route"] == route
        assert attributes["url.path"] == path
        assert attributes["tracesec.framework"] == framework
        assert attributes["http.response.status_code"] == 200
        assert attributes["enduser.id"] == "5"
    keys = [set(span["attributes"]) for span in spans.values()]
    assert keys[0] == keys[1]
    assert spans["before"]["name"] == spans["after"]["name"] == f"GET {route}"
