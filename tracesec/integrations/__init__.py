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
    Target("flask", "flask", "tracesec.integrations.flask:patch"),
    Target("django", "django.core.handlers.wsgi", "tracesec.integrations.django:patch_wsgi_handler"),
    Target("django", "django.core.handlers.asgi", "tracesec.integrations.django:patch_asgi_handler"),
    Target("django", "django.core.handlers.base", "tracesec.integrations.django:patch_route_resolution"),
    Target("starlette", "starlette.applications", "tracesec.integrations.starlette:patch_application"),
    Target("starlette", "starlette.routing", "tracesec.integrations.starlette:patch_routing"),
)


def integration_names() -> list[str]:
    return sorted({target.integration for target in REGISTRY})
