"""A tiny HTTP server on loopback whose answers a test scripts: for what the real collector will not
do on demand (answer 429 with a given Retry-After, or 401 and count the attempts)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class ScriptedServer:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def scripted_server(answer: Callable[[list[Received]], Answer]) -> Iterator[ScriptedServer]:
    """Serve POSTs with ``answer(requests received so far, this one last)``."""
    state = ScriptedServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            state.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            )
            status, headers, reply = answer(state.received)
            self.send_response(status)
            for name, value in {"content-type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
