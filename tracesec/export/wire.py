"""The batch envelope of the wire format (docs/protocol.md), built on the export worker."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

PROTOCOL_VERSION = 1
RECORD_SECTIONS = ("spans", "events", "sketches", "inventory")
_INSTANCE_ID = uuid.uuid4().hex


def _new_instance_id() -> None:
    global _INSTANCE_ID
    _INSTANCE_ID = uuid.uuid4().hex


os.register_at_fork(after_in_child=_new_instance_id)


def resource_attributes(service: str) -> dict[str, Any]:
    """Who sent a batch: one per process (a forked worker is its own instance)."""
    from tracesec import __version__

    return {
        "service.name": service,
        "service.instance.id": _INSTANCE_ID,
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
        "telemetry.sdk.name": "tracesec",
        "telemetry.sdk.version": __version__,
    }


def build_batch(
    resource: dict[str, Any], sections: dict[str, list[Any]], metrics: dict[str, Any]
) -> dict[str, Any]:
    batch: dict[str, Any] = {
        "protocol_version": PROTOCOL_VERSION,
        "batch_id": uuid.uuid4().hex,
        "sent_at_unix_nano": time.time_ns(),
        "resource": resource,
        "metrics": metrics,
    }
    for section in RECORD_SECTIONS:
        if sections.get(section):
            batch[section] = sections[section]
    return batch


def encode(batch: dict[str, Any]) -> bytes:
    return json.dumps(batch, separators=(",", ":"), default=str).encode()


def split_to_fit(batch: dict[str, Any], max_bytes: int) -> Iterator[dict[str, Any]]:
    """The batch itself when it encodes within ``max_bytes``, else halves of its records, each with a
    batch_id of its own; a single record too large to fit is sent alone rather than lost."""
    records = [(section, record) for section in RECORD_SECTIONS for record in batch.get(section, ())]
    if len(records) <= 1 or len(encode(batch)) <= max_bytes:
        yield batch
        return
    middle = len(records) // 2
    for half in (records[:middle], records[middle:]):
        sections: dict[str, list[Any]] = {}
        for section, record in half:
            sections.setdefault(section, []).append(record)
        yield from split_to_fit(build_batch(batch["resource"], sections, batch["metrics"]), max_bytes)
