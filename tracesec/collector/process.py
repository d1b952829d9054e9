"""A collector in a child process on a loopback port: what the test suite, the benchmarks and the demo
run when they need a real analysis service to talk to."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from tracesec.child_process import ServiceProcess, free_port

__all__ = ["CollectorProcess", "free_port"]


class CollectorProcess(ServiceProcess):
    name = "collector"
    health_path = "/v1/health"

    def __init__(
        self,
        db_path: Path,
        *,
        port: int | None = None,
        api_key: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(port)
        self.db_path = db_path
        self.api_key = api_key
        self.extra_args = tuple(extra_args)

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "tracesec.cli", "collector", "--port", str(self.port)]
        command += ["--db", str(self.db_path), *self.extra_args]
        return command + (["--api-key", self.api_key] if self.api_key else [])

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def health(self) -> dict[str, object]:
        reply = httpx.get(self.url + self.health_path, headers=self.headers, timeout=10.0)
        reply.raise_for_status()
        result: dict[str, object] = reply.json()
        return result
