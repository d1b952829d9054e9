"""Real servers on loopback ports: start one in a subprocess with a given environment, wait until it
accepts connections, stop it, and show its output when something fails. Plus raw-socket HTTP."""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: servers import the example apps as ``tests.support.apps.<module>``."""
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gunicorn(app: str, port: int, *options: str) -> list[str]:
    """``gunicorn module:app`` bound to the loopback port (options e.g. ``--threads 8``)."""
    return [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", "1", *options, app]


def uvicorn(app: str, port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port), *options, app]


def python(script: str | Path, *args: str) -> list[str]:
    return [sys.executable, str(script), *args]


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None


def server_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any TRACESEC_* setting, with the example apps importable."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("TRACESEC_")}
    paths = [str(ROOT), base.get("PYTHONPATH", "")]
    base["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    base["PYTHONUNBUFFERED"] = "1"
    base.update(env or {})
    return base


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> bool:
    """True once 127.0.0.1:port accepts a connection; False on timeout or when ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def serve(
    command: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | Path | None = None,
    startup_timeout: float = 20.0,
    stop_timeout: float = 10.0,
) -> Iterator[Server]:
    """Run ``command`` (which must listen on ``port``) with ``server_environment(env)``; yield once the
    port accepts connections; then SIGTERM, wait up to ``stop_timeout``, and kill. An error inside the
    block gets the server's output attached as a note."""
    with tempfile.TemporaryDirectory(prefix="tracesec-server-") as folder:
        log_path = Path(folder) / "output.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                list(command),
                env=server_environment(env),
                cwd=str(cwd or folder),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(port, process, log_path)
        try:
            if not wait_for_port(port, process, startup_timeout):
                raise RuntimeError(
                    f"server did not accept connections on port {port} (exit code {process.poll()}):\n"
                    + server.output()
                )
            try:
                yield server
            except BaseException as exc:
                exc.add_note("server output:\n" + server.output()[-6000:])
                raise
        finally:
            stop(process, stop_timeout)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int | None:
    """SIGTERM, a bounded wait, then SIGKILL of the process (and its session, e.g. gunicorn workers)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    return process.returncode


def raw_request(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` as-is and read the reply until the server closes the connection (ask for that with
    ``Connection: close``) or ``timeout`` passes."""
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(reply: bytes) -> int:
    """The status code of a raw HTTP/1.x reply (0 when there is none)."""
    first = reply.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) >= 2 and first[1].isdigit() else 0


def body_of(reply: bytes) -> bytes:
    """The body of a raw HTTP/1.x reply (Content-Length, chunked, or up to the connection's end)."""

    class _Recorded:
        def makefile(self, *_args: object, **_kwargs: object) -> io.BytesIO:
            return io.BytesIO(reply)

    response = http.client.HTTPResponse(_Recorded())  # type: ignore[arg-type]
    response.begin()
    return response.read()


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> bytes:
    """Read from ``sock`` (which should carry a timeout) until ``marker`` arrived or ``limit`` bytes."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data
