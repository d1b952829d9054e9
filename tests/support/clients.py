"""In-process clients for the example apps, all with httpx's API: WSGI apps through httpx.WSGITransport,
ASGI apps through Starlette's TestClient; both report the same client address."""

from __future__ import annotations

import os
from typing import Any, Literal

import httpx
from starlette.testclient import TestClient

PEER = "203.0.113.7"
"""The client (socket peer) address every in-process request comes from."""
BASE_URL = "http://testserver"
DJANGO_SETTINGS = "tests.support.apps.djangoproj.settings"


def wsgi_client(app: Any, *, raise_app_exceptions: bool = True) -> httpx.Client:
    transport = httpx.WSGITransport(app=app, remote_addr=PEER, raise_app_exceptions=raise_app_exceptions)
    return httpx.Client(transport=transport, base_url=BASE_URL)


def asgi_client(app: Any, *, raise_server_exceptions: bool = True) -> TestClient:
    return TestClient(
        app, base_url=BASE_URL, client=(PEER, 50000), raise_server_exceptions=raise_server_exceptions
    )


def setup_django() -> None:
    """Configure the example Django project in this process (once)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DJANGO_SETTINGS)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def django_handler(kind: Literal["wsgi", "asgi"], middleware: list[str] | None = None) -> Any:
    """A fresh WSGIHandler/ASGIHandler of the example project, built with ``middleware`` when given."""
    setup_django()
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    handler_class = WSGIHandler if kind == "wsgi" else ASGIHandler
    if middleware is None:
        return handler_class()
    with override_settings(MIDDLEWARE=middleware):
        return handler_class()  # the middleware chain is built here, once
