"""What every transport (http, file, console) offers the export worker."""

from __future__ import annotations

from typing import Any, Protocol


class ExportError(Exception):
    """A batch that could not be delivered. ``reason`` is the drop counter it is counted under:
    ``network`` (unreachable / retries exhausted) or ``rejected`` (the service refused it)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Transport(Protocol):
    def send(self, batch: dict[str, Any]) -> dict[str, Any] | None:
        """Deliver one batch (see docs/protocol.md); raise ExportError when it is lost.

        Called only on the export worker thread. May return the service's JSON reply (e.g. a blocklist).
        """
        ...

    def close(self) -> None: ...
