"""A Django project in one module (settings, URLs and the view) with one string-built SQL query, for the
runtime-protection tests. Serve it with DJANGO_SETTINGS_MODULE set to this module and
``django.core.wsgi:get_wsgi_application()``."""

from __future__ import annotations

import sqlite3

import tracesec

tracesec.install()

from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
MIDDLEWARE: list[str] = []
USE_TZ = True


def search(request: HttpRequest) -> JsonResponse:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    query = f"SELECT id FROM users WHERE name = '{request.GET.get('name', '')}'"
    return JsonResponse(db.execute(query).fetchall(), safe=False)


urlpatterns = [path("users/search", search)]
