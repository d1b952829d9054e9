"""Minimal settings: no database, no templates. TEST_MIDDLEWARE=1 adds tracesec's explicit middleware,
TEST_HANDLE_ERRORS=1 a middleware that turns any exception into a JSON 500."""

from __future__ import annotations

from tests.support.apps.switches import HANDLE_ERRORS
from tests.support.apps.switches import MIDDLEWARE as EXPLICIT

TRACESEC_MIDDLEWARE = "tracesec.integrations.django.TracesecMiddleware"
CATCH_ALL_MIDDLEWARE = "tests.support.apps.djangoproj.views.CatchAllMiddleware"

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.support.apps.djangoproj.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
USE_TZ = True
DATA_UPLOAD_MAX_NUMBER_FIELDS = None
MIDDLEWARE = [TRACESEC_MIDDLEWARE] if EXPLICIT else []
if HANDLE_ERRORS:
    MIDDLEWARE.append(CATCH_ALL_MIDDLEWARE)
LOGGING = {"version": 1, "disable_existing_loggers": False}
