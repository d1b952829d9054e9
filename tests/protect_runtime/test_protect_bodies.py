"""Bodies protection must see even when spans do not keep them: multipart fields and file names, and any
body when TRACESEC_CAPTURE_BODIES=false."""

from __future__ import annotations

from pathlib import Path

from tests.protect_runtime.conftest import Protected, protected_app
from tests.support.records import read_records

SQL_ATTACK = "x' OR '1'='1"
AVATAR = ("me.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png")


def test_sql_injection_in_a_multipart_field_is_blocked(blocking: Protected) -> None:
    response = blocking.client.post("/users/register", data={"name": SQL_ATTACK}, files={"avatar": AVATAR})
    assert response.status_code == 403
    assert response.json()["reason"] == "sql_injection"
    event = blocking.event(response.json()["event_id"])
    assert event["attributes"]["tracesec.input.path"] == "body.name"


def test_a_harmless_multipart_form_passes(blocking: Protected) -> None:
    response = blocking.client.post("/users/register", data={"name": "Ada"}, files={"avatar": AVATAR})
    assert response.status_code == 200


def test_bodies_are_protected_when_spans_do_not_capture_them(tmp_path: Path) -> None:
    with protected_app(tmp_path, mode="block", capture_bodies="false") as app:
        response = app.client.post("/users/find", json={"user": {"name": SQL_ATTACK}})
        assert response.status_code == 403
        assert response.json()["reason"] == "sql_injection"
        app.event(response.json()["event_id"])  # exported, so the span of that request was too
        spans = [record for record in read_records(app.events_path) if record.get("type") == "span"]
        server_spans = [span for span in spans if span["kind"] == "server"]
        assert server_spans
        assert all("tracesec.request.body" not in span["attributes"] for span in server_spans)
