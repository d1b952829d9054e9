"""Transports that stay on this machine: a JSON-lines file and a readable console log."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlparse

from tracesec.export.transport import ExportError

_LINE_TYPES = {"spans": "span", "events": "event", "sketches": "sketch", "inventory": "inventory"}


def records(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """One self-contained record per span/event/sketch/inventory entry, each naming its service and the
    process that sent it (gunicorn workers share one file)."""
    service = batch["resource"]["service.name"]
    pid = batch["resource"]["process.pid"]
    lines = []
    for section, line_type in _LINE_TYPES.items():
        for record in batch.get(section, ()):
            lines.append({"type": line_type, "service": service, "process.pid": pid, **record})
    return lines


class FileTransport:
    """``file:///path.jsonl``: appends one JSON object per line; the folder is created if missing."""

    def __init__(self, endpoint: str) -> None:
        self.path = Path(unquote(urlparse(endpoint).path))
        self._lock = threading.Lock()

    def send(self, batch: dict[str, Any]) -> None:
        text = "".join(json.dumps(line, separators=(",", ":"), default=str) + "\n" for line in records(batch))
        data = text.encode("utf-8")
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # One append per batch, so several processes writing the same file never interleave lines.
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    written = 0
                    while written < len(data):
                        written += os.write(descriptor, data[written:])
                finally:
                    os.close(descriptor)
        except OSError as exc:
            raise ExportError("network", f"cannot write {self.path}: {exc}") from exc

    def close(self) -> None:
        """Nothing held open between batches."""


class ConsoleTransport:
    """``console``: one readable line per span and event on standard error, for trying tracesec out."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, batch: dict[str, Any]) -> None:
        stream = self._stream or sys.stderr
        for record in records(batch):
            line = describe(record)
            if line:  # sketches are machine state: nothing to read
                stream.write(line + "\n")
        stream.flush()

    def close(self) -> None:
        """The stream belongs to the process."""


def describe(record: dict[str, Any]) -> str:
    if record["type"] == "span":
        attributes = record["attributes"]
        millis = (record["end_time_unix_nano"] - record["start_time_unix_nano"]) / 1e6
        status = attributes.get("http.response.status_code", record["status"])
        outcome = "" if status == "unset" else f" -> {status}"
        return (
            f"[tracesec] {record['kind']:<6} {record['name']}{outcome} {millis:.2f} ms "
            f"trace={record['trace_id'][:8]} service={record['service']}"
        )
    if record["type"] == "event":
        verdict = "BLOCKED" if record["blocked"] else "detected"
        route = record["attributes"].get("http.route", "")
        return f"[tracesec] EVENT  {record['type']} {verdict} severity={record['severity']} {route}".rstrip()
    if record["type"] == "inventory":
        labels = sorted(
            {*record.get("labels", {}).get("request", ()), *record.get("labels", {}).get("response", ())}
        )
        auth = ", ".join(sorted(record.get("auth", {}))) or "none"
        sensitive = f" sensitive: {', '.join(labels)}" if labels else ""
        calls = record.get("calls", 0)
        return f"[tracesec] api    {record['method']} {record['route']} calls={calls} auth={auth}{sensitive}"
    return ""
