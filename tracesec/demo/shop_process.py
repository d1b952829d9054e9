"""The demo shop in a child process (its own agent, as a real deployment has), started and stopped."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tracesec.child_process import ServiceProcess


class ShopProcess(ServiceProcess):
    name = "the demo shop"
    start_timeout = 30.0

    def __init__(self, data_folder: Path, port: int, collector_url: str, collector_key: str | None) -> None:
        super().__init__(port)
        self._command = [
            sys.executable, "-m", "tracesec.demo.shop_server", "--port", str(self.port),
            "--data", str(data_folder), "--collector", collector_url,
            *(["--api-key", collector_key] if collector_key else []),
        ]  # fmt: skip

    def command(self) -> list[str]:
        return self._command

    def environment(self) -> dict[str, str]:
        """The shop's agent takes its settings from its command line, not from this shell's TRACESEC_*."""
        return {key: value for key, value in os.environ.items() if not key.startswith("TRACESEC_")}
