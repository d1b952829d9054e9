"""tracesec-run: instruments the command's Python processes exactly once, chains the user's own
sitecustomize, and works under gunicorn (with and without --preload: every worker captures) and uvicorn."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.support.records import read_records, server_spans, wait_for_records
from tests.support.servers import free_port, gunicorn, serve, server_environment, uvicorn

LAUNCHER = str(Path(sys.executable).with_name("tracesec-run"))

FLASK_APP = """
import os
from flask import Flask
app = Flask("launched")

@app.get("/pid/<int:n>")
def pid(n):
    return {"pid": os.getpid(), "n": n}
"""

SCRIPT = """
import subprocess, sys
import tracesec
again = tracesec.install()  # the app's own call under the launcher: the same agent
from app import app
client = app.test_client()
for n in range(3):
    assert client.get(f"/pid/{n}", buffered=True).status_code == 200
again.exporter.flush(5)
child = subprocess.run(
    [sys.executable, "-c", "import tracesec.agent as a; print(a.active() is not None)"],
    capture_output=True, text=True, check=True,
)
print("child instrumented:", child.stdout.strip())
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _launch(
    folder: Path, *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LAUNCHER, *command],
        cwd=folder,
        env=server_environment({"PYTHONPATH": str(folder), **(env or {})}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _exporting_to(spans: Path, folder: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(folder),
        "TRACESEC_ENDPOINT": f"file://{spans}",
        "TRACESEC_FLUSH_INTERVAL": "0.05",
    }


def test_usage_and_unknown_commands(tmp_path: Path) -> None:
    assert _launch(tmp_path, "--help").returncode == 0
    missing = _launch(tmp_path)
    assert missing.returncode == 2
    assert "usage: tracesec-run" in missing.stderr
    unknown = _launch(tmp_path, "--", "no-such-program-here")
    assert unknown.returncode == 127
    assert "command not found: no-such-program-here" in unknown.stderr


def test_a_python_script_and_its_python_children_are_instrumented_once(tmp_path: Path) -> None:
    _write(tmp_path, "app.py", FLASK_APP)
    script = _write(tmp_path, "script.py", SCRIPT)
    spans = tmp_path / "spans.jsonl"
    done = _launch(tmp_path, sys.executable, str(script), env={"TRACESEC_ENDPOINT": f"file://{spans}"})
    assert done.returncode == 0, done.stderr
    assert "child instrumented: True" in done.stdout
    paths = sorted(span["attributes"]["url.path"] for span in server_spans(spans))
    assert paths == ["/pid/0", "/pid/1", "/pid/2"]  # one span per request: patched once


def test_the_users_own_sitecustomize_still_runs(tmp_path: Path) -> None:
    user_site = tmp_path / "site"
    user_site.mkdir()
    _write(user_site, "sitecustomize.py", "import builtins\nbuiltins.USER_SITECUSTOMIZE_RAN = True\n")
    done = _launch(
        tmp_path,
        sys.executable,
        "-c",
        "import builtins, tracesec.agent as a; "
        "print(builtins.USER_SITECUSTOMIZE_RAN, a.active() is not None)",
        env={"PYTHONPATH": str(user_site), "TRACESEC_ENDPOINT": "console"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_an_invalid_setting_is_reported_and_the_program_still_runs(tmp_path: Path) -> None:
    done = _launch(tmp_path, sys.executable, "-c", "print('app ran')", env={"TRACESEC_MODE": "loud"})
    assert done.returncode == 0
    assert done.stdout.strip() == "app ran"
    assert "TRACESEC_MODE" in done.stderr
    assert "monitor, block, off" in done.stderr


@pytest.mark.parametrize("preload", [False, True], ids=["fork-then-import", "preload"])
def test_every_gunicorn_worker_captures(tmp_path: Path, preload: bool) -> None:
    _write(tmp_path, "app.py", FLASK_APP)
    spans = tmp_path / "spans.jsonl"
    port = free_port()
    command = gunicorn("app:app", port, "--workers", "2", *(["--preload"] if preload else []))
    pids: dict[int, list[int]] = {}
    with (
        serve([LAUNCHER, *command], port, _exporting_to(spans, tmp_path), cwd=tmp_path) as server,
        httpx.Client(base_url=server.url, headers={"Connection": "close"}) as client,
    ):
        for n in range(200):  # bounded: until both workers have answered a few requests
            pids.setdefault(client.get(f"/pid/{n}").json()["pid"], []).append(n)
            if len(pids) == 2 and all(len(seen) >= 3 for seen in pids.values()):
                break
        assert len(pids) == 2, "gunicorn never used its second worker"
        sent = sum(len(seen) for seen in pids.values())
        records = wait_for_records(spans, lambda found: len(found) >= sent)
    by_worker: dict[int, set[str]] = {}
    for record in records:
        by_worker.setdefault(record["process.pid"], set()).add(record["attributes"]["url.path"])
    assert by_worker == {pid: {f"/pid/{n}" for n in seen} for pid, seen in pids.items()}


def test_uvicorn_under_the_launcher(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "asgi_app.py",
        """
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def item(request):
            return JSONResponse({"id": request.path_params["iid"]})

        app = Starlette(routes=[Route("/items/{iid}", item)])
        """,
    )
    spans = tmp_path / "spans.jsonl"
    port = free_port()
    env = _exporting_to(spans, tmp_path)
    with serve([LAUNCHER, *uvicorn("asgi_app:app", port)], port, env, cwd=tmp_path) as server:
        assert httpx.get(f"{server.url}/items/9").json() == {"id": "9"}
        records = wait_for_records(spans, lambda found: len(found) >= 1)
    (span,) = records
    assert span["attributes"]["http.route"] == "/items/{iid}"
    assert read_records(spans)  # and the file holds whole JSON lines only
