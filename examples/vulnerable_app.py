"""A deliberately vulnerable Flask app, each vulnerable route next to its safe twin: what tracesec's
runtime protection stops, and what it must leave alone. Never expose it.

Run it in block mode:
    TRACESEC_MODE=block tracesec-run gunicorn --threads 4 examples.vulnerable_app:app
    curl "http://127.0.0.1:8000/users/search?name=x'%20OR%20'1'='1"     -> 403 {"reason": "sql_injection"}
    curl "http://127.0.0.1:8000/users/search-safe?name=x'%20OR%20'1'='1" -> 200 []

Settings (environment): VULNERABLE_APP_FILES, the folder /files serves (default: a temporary one holding
hello.txt); VULNERABLE_APP_UPSTREAM, the one service /fetch-safe calls (default http://127.0.0.1:8000,
the app itself). benchmarks/corpus.py drives every payload of the shared corpora through these routes.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import tracesec

tracesec.install()

import httpx  # noqa: E402
from flask import Flask, Response, jsonify, redirect, request  # noqa: E402

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, active INTEGER)"
SQL_BY_NAME = "SELECT id, name FROM users WHERE name = '{p}' AND active = 1"
SQL_BY_ID = "SELECT id, name FROM users WHERE id = {p} AND active = 1"
SHELL_LIST = "ls {p}"
FETCH_TIMEOUT = 1.0
FILES = Path(os.environ.get("VULNERABLE_APP_FILES") or tempfile.mkdtemp(prefix="vulnerable-app-"))
UPSTREAM = os.environ.get("VULNERABLE_APP_UPSTREAM", "http://127.0.0.1:8000")

if not (FILES / "hello.txt").exists():  # a sandboxed run (examples/corpus_sandbox.py) provides it
    (FILES / "hello.txt").write_text("hello\n")
app = Flask(__name__)
_local = threading.local()


def database() -> sqlite3.Connection:
    """One in-memory database per thread, with two users."""
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = _local.db = sqlite3.connect(":memory:")
        db.execute(SCHEMA)
        db.executemany("INSERT INTO users VALUES (?, ?, 1)", [(1, "ada"), (2, "alan")])
    return db


def rows(query: str, *parameters: Any) -> Response | tuple[Response, int]:
    try:
        return jsonify(database().execute(query, parameters).fetchall())
    except sqlite3.Error as exc:
        return jsonify(error=str(exc)), 400


# --- SQL ---------------------------------------------------------------------------------------------


@app.get("/users/search")
def search_users() -> Any:
    return rows(SQL_BY_NAME.replace("{p}", request.args.get("name", "")))


@app.get("/users/search-safe")
def search_users_safe() -> Any:
    return rows(SQL_BY_NAME.replace("'{p}'", "?"), request.args.get("name", ""))


@app.get("/users/by-id")
def user_by_id() -> Any:
    return rows(SQL_BY_ID.replace("{p}", request.args.get("id", "0")))


@app.get("/users/by-id-safe")
def user_by_id_safe() -> Any:
    return rows(SQL_BY_ID.replace("{p}", "?"), request.args.get("id", "0"))


@app.post("/users/find")
def find_users() -> Any:
    """JSON body {"user": {"name": ...}}."""
    name = ((request.get_json(silent=True) or {}).get("user") or {}).get("name", "")
    return rows(SQL_BY_NAME.replace("{p}", str(name)))


@app.post("/users/register")
def register_user() -> Any:
    """A multipart form (name, plus an optional avatar file) whose name is spliced into SQL."""
    return rows(SQL_BY_NAME.replace("{p}", request.form.get("name", "")))


@app.get("/users/<name>/visits")
def visits(name: str) -> Any:
    """The user name from the path, and the visitor's User-Agent stored as is."""
    agent = request.headers.get("User-Agent", "")
    return rows(f"SELECT '{agent}', id FROM users WHERE name = '{name}'")


# --- shell -------------------------------------------------------------------------------------------


def output(completed: subprocess.CompletedProcess[str]) -> Response:
    return jsonify(status=completed.returncode, output=completed.stdout[:1000])


@app.get("/list")
def list_folder() -> Any:
    command = SHELL_LIST.replace("{p}", request.args.get("dir", "."))
    return output(subprocess.run(command, shell=True, cwd=FILES, capture_output=True, text=True, check=False))


@app.get("/list-sh")
def list_folder_sh() -> Any:
    command = SHELL_LIST.replace("{p}", request.args.get("dir", "."))
    return output(
        subprocess.run(["sh", "-c", command], cwd=FILES, capture_output=True, text=True, check=False)
    )


@app.get("/list-system")
def list_folder_system() -> Any:
    return jsonify(status=os.system(SHELL_LIST.replace("{p}", request.args.get("dir", ".")) + " >/dev/null"))


@app.get("/list-safe")
def list_folder_safe() -> Any:
    argv = ["ls", "--", request.args.get("dir", ".")]
    return output(subprocess.run(argv, cwd=FILES, capture_output=True, text=True, check=False))


@app.get("/list-quoted")
def list_folder_quoted() -> Any:
    command = SHELL_LIST.replace("{p}", shlex.quote(request.args.get("dir", ".")))
    return output(subprocess.run(command, shell=True, cwd=FILES, capture_output=True, text=True, check=False))


# --- files -------------------------------------------------------------------------------------------


def read(path: str | Path) -> Any:
    try:
        with open(path, "rb") as file:
            return Response(file.read(1000), mimetype="application/octet-stream")
    except (OSError, ValueError) as exc:
        return jsonify(error=type(exc).__name__), 404


@app.get("/files")
def read_file() -> Any:
    return read(os.path.join(FILES, request.args.get("name", "")))


@app.get("/files-pathlib")
def read_file_pathlib() -> Any:
    try:
        return Response((FILES / request.args.get("name", "")).read_bytes()[:1000])
    except (OSError, ValueError) as exc:
        return jsonify(error=type(exc).__name__), 404


@app.get("/files-safe")
def read_file_safe() -> Any:
    """Resolve first, and open only what stays inside the folder."""
    resolved = os.path.realpath(os.path.join(FILES, request.args.get("name", "")))
    if os.path.commonpath([resolved, os.path.realpath(FILES)]) != os.path.realpath(FILES):
        return jsonify(error="outside the folder"), 404
    return read(resolved)


# --- outgoing requests -------------------------------------------------------------------------------


@app.get("/fetch")
def fetch() -> Any:
    """Fetches whatever URL it is given, following redirects."""
    try:
        response = httpx.get(request.args.get("url", ""), timeout=FETCH_TIMEOUT, follow_redirects=True)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError, OSError) as exc:
        return jsonify(error=type(exc).__name__), 502
    return jsonify(status=response.status_code, size=len(response.content))


@app.get("/fetch-safe")
def fetch_safe() -> Any:
    """Calls its one upstream service; the input only goes into the query string."""
    try:
        response = httpx.get(
            f"{UPSTREAM}/echo", params={"q": request.args.get("q", "")}, timeout=FETCH_TIMEOUT
        )
    except httpx.HTTPError as exc:
        return jsonify(error=type(exc).__name__), 502
    return jsonify(status=response.status_code, size=len(response.content))


@app.get("/echo")
def echo() -> Any:
    return jsonify(q=request.args.get("q", ""))


@app.get("/redirect")
def open_redirect() -> Any:
    """An open redirect: with /fetch, a way to reach an internal address through an allowed host."""
    return redirect(request.args.get("to", "/"), code=302)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000, threaded=True)
