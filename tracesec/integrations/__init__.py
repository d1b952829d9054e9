"""One module per instrumented library. Each declares what it patches in ``REGISTRY``: the integration's
name (what ``TRACESEC_DISABLED_INTEGRATIONS`` takes), the module whose import triggers the patch, and the
``module:function`` that patches it. Integration modules are imported only when their library is."""

from __future__ import annotations

from typing import NamedTuple


class Target(NamedTuple):
    integration: str
    module: str
    patch: str


REGISTRY: tuple[Target, ...] = (
    Target("httpx", "httpx", "tracesec.integrations.httpx:patch"),
    Target("requests", "requests.sessions", "tracesec.integrations.requests:patch"),
    Target("urllib3", "urllib3.poolmanager", "tracesec.integrations.urllib3:patch_pool_manager"),
    Target("urllib3", "urllib3.connectionpool", "tracesec.integrations.urllib3:patch_connection_pool"),
    Target("urllib", "urllib.request", "tracesec.integrations.urllib:patch_urllib_request"),
    Target("urllib", "http.client", "tracesec.integrations.urllib:patch_http_client"),
    Target("socket", "socket", "tracesec.integrations.socket:patch_socket"),
    Target("socket", "asyncio.base_events", "tracesec.integrations.socket:patch_event_loop"),
    Target("sqlite3", "sqlite3", "tracesec.integrations.sqlite3:patch"),
    Target("psycopg", "psycopg", "tracesec.integrations.psycopg:patch"),
    Target("pymysql", "pymysql.cursors", "tracesec.integrations.pymysql:patch"),
    Target("sqlalchemy", "sqlalchemy.engine", "tracesec.integrations.sqlalchemy:patch"),
    Target("subprocess", "subprocess", "tracesec.integrations.subprocess:patch_subprocess"),
    Target("subprocess", "os", "tracesec.integrations.subprocess:patch_os"),
    Target("files", "io", "tracesec.integrations.files:patch_open"),
    Target("files", "os", "tracesec.integrations.files:patch_os"),
    Target("files", "pathlib", "tracesec.integrations.files:patch_pathlib"),
    Target("files", "shutil", "tracesec.integrations.files:patch_shutil"),
    Target("flask", "flask", "tracesec.integrations.flask:patch"),
    Target("django", "django.core.handlers.wsgi", "tracesec.integrations.django:patch_wsgi_handler"),
    Target("django", "django.core.handlers.asgi", "tracesec.integrations.django:patch_asgi_handler"),
    Target("django", "django.core.handlers.base", "tracesec.integrations.django:patch_route_resolution"),
    Target("django", "django.core.handlers.exception", "tracesec.integrations.django:patch_exceptions"),
    Target("starlette", "starlette.applications", "tracesec.integrations.starlette:patch_application"),
    Target("starlette", "starlette.routing", "tracesec.integrations.starlette:patch_routing"),
    Target("starlette", "fastapi.routing", "tracesec.integrations.starlette:patch_fastapi_routing"),
)


def integration_names() -> list[str]:
    return sorted({target.integration for target in REGISTRY})
