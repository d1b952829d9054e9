"""Runtime-protection tests: the example vulnerable app (examples/vulnerable_app.py) served by gunicorn on
a loopback port with the settings under test, and the security events it exported to a JSON-lines file."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.records import Record, read_records, wait_for_records
from tests.support.servers import Server, free_port, gunicorn, serve

VULNERABLE_APP = "examples.vulnerable_app:app"


def security_events(path: str | Path) -> list[Record]:
    """Event records (the file transport writes the event type in their ``type`` field)."""
    return [r for r in read_records(path) if "event_id" in r]


@dataclass
class Protected:
    """A served app, a keep-alive client of it, and the events it exported."""

    server: Server
    client: httpx.Client
    events_path: Path

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def events(self, count: int = 1, **match: Any) -> list[Record]:
        """Events whose attributes match ``match`` (``type`` matches the event type), once at least
        ``count`` of them arrived or the wait ran out; the caller asserts on the result."""

        def matching(records: list[Record]) -> list[Record]:
            return [r for r in records if all(_field(r, k) == v for k, v in match.items())]

        records = wait_for_records(
            self.events_path, lambda found: len(matching(found)) >= count, select=security_events
        )
        return matching(records)

    def event(self, event_id: str) -> Record:
        """The event a 403 named (waits for it to be exported)."""
        found = self.events(1, event_id=event_id)
        assert found, f"event {event_id} was not exported"
        return found[0]

    def no_events(self, **match: Any) -> list[Record]:
        """Sends a marker attack (its event is shipped after any earlier one) and returns the earlier
        events matching ``match``: with the marker in, nothing that was going to arrive is still missing."""
        marker = self.get("/users/search", params={"name": "marker' OR 'm'='m"})
        assert marker.status_code in (200, 403)
        self.events(1, **{"tracesec.input.payload": "marker' OR 'm'='m"})
        return [
            r for r in security_events(self.events_path) if all(_field(r, k) == v for k, v in match.items())
        ]


def _field(record: Record, key: str) -> Any:
    return (
        record[key] if key in ("type", "blocked", "severity", "event_id") else record["attributes"].get(key)
    )


@contextlib.contextmanager
def protected_app(
    tmp_path: Path, app: str = VULNERABLE_APP, command: Callable[..., list[str]] = gunicorn, **settings: str
) -> Iterator[Protected]:
    """Serve ``app`` with TRACESEC_<NAME> settings (lower-case keyword names) exporting to a file."""
    port = free_port()
    files = tmp_path / f"files-{port}"
    files.mkdir()
    events_path = tmp_path / f"events-{port}.jsonl"
    env = {
        "TRACESEC_ENDPOINT": f"file://{events_path}",
        "TRACESEC_FLUSH_INTERVAL": "0.05",
        "TRACESEC_BEHAVIOR": "false",
        "VULNERABLE_APP_FILES": str(files),
        "VULNERABLE_APP_UPSTREAM": f"http://127.0.0.1:{port}",
    }
    env.update({f"TRACESEC_{name.upper()}": value for name, value in settings.items()})
    options = ("--threads", "4") if command is gunicorn else ()
    with (
        serve(command(app, port, *options), port, env) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as client,
    ):
        yield Protected(server, client, events_path)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Protected]:
    with protected_app(tmp_path_factory.mktemp("monitor"), mode="monitor") as app:
        yield app


@pytest.fixture(scope="module")
def blocking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Protected]:
    with protected_app(tmp_path_factory.mktemp("block"), mode="block") as app:
        yield app
