"""FastAPI example app (routes in an APIRouter under a prefix, a sync and an async sink route)."""

from __future__ import annotations

from tests.support.apps.switches import install_if, sql_for

install_if("before")

from typing import Any  # noqa: E402

from fastapi import APIRouter, Body, FastAPI  # noqa: E402

import tracesec  # noqa: E402
from tracesec.hooks import check_sink  # noqa: E402


def create_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/v1")
    state = {"after_sink": 0}

    @router.get("/users/{uid}")
    async def user(uid: int, q: str | None = None) -> dict[str, Any]:
        tracesec.set_user(str(uid))
        return {"uid": uid, "q": q}

    @router.post("/items/{rid}")
    def item(rid: str, payload: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        tracesec.set_user(rid)
        return {"rid": rid, "body": payload}

    @router.get("/sql")
    def sql(name: str = "") -> dict[str, str]:
        try:  # noqa: SIM105  (an app that swallows every Exception)
            check_sink("sql", sql_for(name))
        except Exception:
            pass
        state["after_sink"] += 1
        return {"result": "ran"}

    app.include_router(router)
    app.state.test_state = state
    return app


app = create_app()
install_if("after")
