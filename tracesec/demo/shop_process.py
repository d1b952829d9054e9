"""The demo shop in a child process (its own agent, as a real deployment has), started and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 15.0


class ShopProcess:
    def __init__(self, data_folder: Path, port: int, collector_url: str, collector_key: str | None) -> None:
        self.port = port
        self.command = [
            sys.executable, "-m", "tracesec.demo.shop_server", "--port", str(port),
            "--data", str(data_folder), "--collector", collector_url,
            *(["--api-key", collector_key] if collector_key else []),
        ]  # fmt: skip
        descriptor, log_name = tempfile.mkstemp(prefix="tracesec-demo-shop-", suffix=".log")
        os.close(descriptor)
        self.log_path = Path(log_name)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ShopProcess:
        """Return once the shop answers; RuntimeError with what it printed if it does not."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("TRACESEC_")}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the demo shop exited with {self._process.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the demo shop did not answer within {_START_TIMEOUT} s:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM: the agent flushes what it still holds on the way out."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ShopProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)
