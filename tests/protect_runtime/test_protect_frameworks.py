"""The SQL sink is protected the same way under Flask (see test_protect_sinks), Starlette on uvicorn and
Django on gunicorn: monitor mode reports, block mode answers the contract's 403."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.protect_runtime.conftest import protected_app
from tests.support.servers import gunicorn, uvicorn

ATTACK = "x' OR '1'='1"
SERVERS: dict[str, tuple[str, Callable[..., list[str]], dict[str, str]]] = {
    "starlette": ("tests.protect_runtime.apps.starlette_sql:app", uvicorn, {}),
    "django": (
        "django.core.wsgi:get_wsgi_application()",
        gunicorn,
        {"DJANGO_SETTINGS_MODULE": "tests.protect_runtime.apps.django_sql"},
    ),
}


@pytest.mark.parametrize("framework", list(SERVERS))
@pytest.mark.parametrize("mode", ["monitor", "block"])
def test_string_built_sql_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, framework: str, mode: str
) -> None:
    app, command, env = SERVERS[framework]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with protected_app(tmp_path, app, command, mode=mode) as served:
        assert served.get("/users/search", params={"name": "ann"}).json() == []
        response = served.get("/users/search", params={"name": ATTACK})
        [event] = served.events(1, type="sql_injection")
        assert event["attributes"]["tracesec.input.path"] == "query.name"
        assert event["attributes"]["tracesec.sink.value"].endswith(f"name = '{ATTACK}'")
        assert event["attributes"]["code.location"].split(":")[0].endswith(f"{framework}_sql.py")
        if mode == "block":
            assert response.status_code == 403
            assert response.json() == {
                "error": "request blocked",
                "reason": "sql_injection",
                "event_id": event["event_id"],
            }
            assert event["blocked"] is True
        else:
            assert response.status_code == 200
            assert event["blocked"] is False
