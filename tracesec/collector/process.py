"""A collector in a child process on a loopback port: what the test suite, the benchmarks and the demo
run when they need a real analysis service to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

_START_TIMEOUT = 20.0
_STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; another process could still take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CollectorProcess:
    def __init__(
        self,
        db_path: Path,
        *,
        port: int | None = None,
        api_key: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.db_path = db_path
        self.port = port or free_port()
        self.api_key = api_key
        self.extra_args = tuple(extra_args)
        descriptor, log_name = tempfile.mkstemp(prefix="tracesec-collector-", suffix=".log")
        os.close(descriptor)
        self.log_path = Path(log_name)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def start(self) -> CollectorProcess:
        """Start the process and return once /v1/health answers; RuntimeError with its output if not."""
        command = [sys.executable, "-m", "tracesec.cli", "collector", "--port", str(self.port)]
        command += ["--db", str(self.db_path), *self.extra_args]
        if self.api_key:
            command += ["--api-key", self.api_key]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"collector exited with {self._process.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/v1/health", headers=self.headers, timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"collector did not answer within {_START_TIMEOUT} s:\n{self.output()}")

    def health(self) -> dict[str, object]:
        reply = httpx.get(self.url + "/v1/health", headers=self.headers, timeout=10.0)
        reply.raise_for_status()
        result: dict[str, object] = reply.json()
        return result

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM: queued batches are written first); the exit code."""
        if self._process is None:
            return None
        self._process.terminate()
        try:
            return self._process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        """Abrupt stop, as a crash would do."""
        if self._process is None:
            return None
        self._process.kill()
        return self._process.wait()

    def output(self) -> str:
        """What the process printed (every run of it, when restarted)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> CollectorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)
