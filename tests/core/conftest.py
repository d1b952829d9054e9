"""Fixtures of the agent-core tests: a clean TRACESEC_* environment and an installed agent that writes
spans to a JSON-lines file the test reads back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import tracesec
from tests.support.clients import asgi_client, django_handler, wsgi_client
from tests.support.records import Record, server_spans


@dataclass
class Traced:
    """An installed agent and the file its spans go to."""

    agent: tracesec.Agent
    path: Path

    def spans(self) -> list[Record]:
        """Every server span exported so far (flushes the queue first)."""
        assert self.agent.exporter.flush(10.0), "the exporter did not flush in time"
        return server_spans(self.path)

    def span(self) -> Record:
        """The one server span exported so far."""
        spans = self.spans()
        assert len(spans) == 1, spans
        return spans[0]


@pytest.fixture(autouse=True)
def clean_environment(clean_tracesec: None) -> None:
    """Every core test starts and ends without an agent or TRACESEC_* settings (tests/conftest.py)."""


@pytest.fixture
def traced(tmp_path: Path) -> Callable[..., Traced]:
    """``traced(**settings)`` installs tracesec exporting to a file in tmp_path."""

    def install(**settings: Any) -> Traced:
        path = tmp_path / "spans.jsonl"
        settings.setdefault("endpoint", f"file://{path}")
        settings.setdefault("flush_interval", 0.05)
        return Traced(tracesec.install(**settings), path)

    return install


@dataclass(frozen=True)
class Framework:
    """One example app as the tests drive it in process."""

    name: str
    kind: str  # wsgi or asgi
    user_route: str  # the route template of /users/<id>
    span_framework: str  # tracesec.framework when auto-instrumented
    middleware_framework: str  # ... and with the explicit middleware

    def client(self, *, middleware: bool = False, handle_errors: bool = False) -> httpx.Client:
        """A client of a fresh app; ``middleware`` adds tracesec's explicit middleware."""
        raise_errors = not handle_errors
        if self.name == "flask":
            from tests.support.apps.flask_app import create_app

            flask_app = create_app(handle_errors=handle_errors, middleware=middleware)
            flask_app.config["PROPAGATE_EXCEPTIONS"] = raise_errors
            return wsgi_client(flask_app, raise_app_exceptions=raise_errors)
        if self.name == "starlette":
            from tests.support.apps.starlette_app import create_app as create_starlette

            app = create_starlette(handle_errors=handle_errors, middleware=middleware)
            return asgi_client(app, raise_server_exceptions=raise_errors)
        from tests.support.apps.djangoproj import settings

        chain = [settings.TRACESEC_MIDDLEWARE] if middleware else []
        if handle_errors:
            chain.append(settings.CATCH_ALL_MIDDLEWARE)
        handler = django_handler("wsgi" if self.kind == "wsgi" else "asgi", chain)
        if self.kind == "wsgi":
            return wsgi_client(handler, raise_app_exceptions=raise_errors)
        return asgi_client(handler, raise_server_exceptions=raise_errors)


FRAMEWORKS = [
    Framework("flask", "wsgi", "/users/<int:uid>", "flask", "wsgi"),
    Framework("starlette", "asgi", "/users/{uid}", "starlette", "asgi"),
    Framework("django-wsgi", "wsgi", "/users/<int:uid>", "django", "django"),
    Framework("django-asgi", "asgi", "/users/<int:uid>", "django", "django"),
]


@pytest.fixture(params=FRAMEWORKS, ids=[f.name for f in FRAMEWORKS])
def framework(request: pytest.FixtureRequest) -> Framework:
    return request.param  # type: ignore[no-any-return]
