"""Security events and the block decision they can carry.

``Blocked`` derives from BaseException on purpose: an application's ``except Exception`` around a sink must
not swallow the decision and go on to run the code after the sink. The request-path cores turn it (or any
response the framework made while it propagated) into the contract's 403.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

EVENT_TYPES = frozenset(
    {
        "sql_injection",
        "shell_injection",
        "path_traversal",
        "ssrf",
        "rate_anomaly",
        "credential_stuffing",
        "token_sharing",
        "enumeration",
        "exfiltration",
        "scanner",
        "blocked_actor",
        "api_drift",
    }
)
SEVERITIES = ("low", "medium", "high", "critical")


class SecurityEvent:
    """One detection. ``attributes`` holds the evidence (already truncated and redacted by the reporter)."""

    __slots__ = ("attributes", "blocked", "event_id", "severity", "span_id", "time_ns", "trace_id", "type")

    export_kind = "events"

    def __init__(
        self,
        type: str,
        severity: str = "high",
        *,
        blocked: bool = False,
        attributes: dict[str, Any] | None = None,
        trace_id: int | None = None,
        span_id: int | None = None,
    ) -> None:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type!r}")
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        self.event_id = uuid.uuid4().hex
        self.type = type
        self.severity = severity
        self.blocked = blocked
        self.time_ns = time.time_ns()
        self.trace_id = trace_id
        self.span_id = span_id
        self.attributes: dict[str, Any] = {} if attributes is None else attributes

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "severity": self.severity,
            "blocked": self.blocked,
            "time_unix_nano": self.time_ns,
            "trace_id": None if self.trace_id is None else f"{self.trace_id:032x}",
            "span_id": None if self.span_id is None else f"{self.span_id:016x}",
            "attributes": self.attributes,
        }


class Blocked(BaseException):
    """Raised at a sink or at request start in block mode; carries the event that decided it."""

    def __init__(self, event: SecurityEvent) -> None:
        super().__init__(event.type)
        self.event = event


def blocked_body(event: SecurityEvent) -> bytes:
    """The contract's 403 body."""
    return json.dumps(
        {"error": "request blocked", "reason": event.type, "event_id": event.event_id}, separators=(",", ":")
    ).encode()


BLOCKED_STATUS = 403
BLOCKED_HEADERS = (("content-type", "application/json"),)
