"""The collector's dashboard: one HTML page and its static CSS and JavaScript, shipped as package data
(no build step, nothing from a CDN). The page reads only the collector's JSON API, from the browser."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/dashboard"
"""Where the CSS and JavaScript are served; neither they nor the page hold any data, so a collector with
API keys can serve them without one (the page asks for the key before it reads the API)."""


async def _index(_request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})


def routes() -> list[BaseRoute]:
    """GET / (the page) and GET /dashboard/... (its assets), for the collector's app to mount."""
    return [
        Route("/", _index, methods=["GET"]),
        Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC), name="dashboard"),
    ]
