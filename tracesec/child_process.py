"""A child process serving HTTP on a loopback port, as the collector, the demo shop, the tests and the
benchmarks run them: started until its health URL answers, its output kept in a log file, stopped with
SIGTERM (then killed)."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; another process could still take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServiceProcess:
    """Subclasses say what to run (``command``), where it answers when ready (``health_path``), and in
    what environment."""

    name = "service"
    health_path = "/health"
    start_timeout = 20.0
    stop_timeout = 15.0

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        descriptor, log_name = tempfile.mkstemp(prefix="tracesec-service-", suffix=".log")
        os.close(descriptor)
        self.log_path = Path(log_name)
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The child's environment; None: this process's."""
        return None

    @property
    def headers(self) -> dict[str, str]:
        return {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> ServiceProcess:
        """Return once the health URL answers 200; RuntimeError with what the process printed if not."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.environment()
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.output()}")
            try:
                reply = httpx.get(self.url + self.health_path, headers=self.headers, timeout=1.0)
                if reply.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.name} did not answer within {self.start_timeout} s:\n{self.output()}")

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM: what it still holds is written or sent first); the exit code."""
        if self._process is None:
            return None
        self._process.terminate()
        try:
            return self._process.wait(self.stop_timeout)
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

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)
