"""A small Flask API with tracesec installed in one line.

Run it:            python examples/flask_app.py            (spans print on the console)
Or with the launcher, no code change:  tracesec-run python examples/flask_app.py
Then:              curl 'http://127.0.0.1:5000/users/7?fields=email'
"""

from __future__ import annotations

import os
import sqlite3

import tracesec

tracesec.install(endpoint=os.environ.get("TRACESEC_ENDPOINT", "console"), flush_interval=1.0)

from flask import Flask, jsonify, request  # noqa: E402  (after install is fine too; this shows either works)

app = Flask(__name__)
DB = sqlite3.connect(":memory:", check_same_thread=False)
DB.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
DB.executemany(
    "INSERT INTO users VALUES (?, ?, ?)", [(7, "Ada", "ada@example.com"), (8, "Alan", "alan@example.com")]
)


@app.get("/users/<int:uid>")
def get_user(uid: int):  # type: ignore[no-untyped-def]
    tracesec.set_user(request.headers.get("X-User", "anonymous"))
    row = DB.execute("SELECT id, name, email FROM users WHERE id = ?", (uid,)).fetchone()
    if row is None:
        return jsonify(error="no such user"), 404
    return jsonify(id=row[0], name=row[1], email=row[2])


@app.post("/login")
def login():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    ok = body.get("password") == "correct horse"
    return jsonify(ok=ok), (200 if ok else 401)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
