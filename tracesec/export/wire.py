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


_encoder = json.JSONEncoder(separators=(",", ":"), default=str)


class Batch(dict[str, Any]):
    """A batch assembled on the worker from records encoded one at a time: its JSON is already known."""

    encoded: bytes


_ENVELOPE_ALLOWANCE = 2048  # batch id, resource, metrics: what a batch carries besides its records
Entry = tuple[str, Any, bytes]
"""(section, record, the record's JSON)."""


def encode(batch: dict[str, Any]) -> bytes:
    if isinstance(batch, Batch):
        return batch.encoded
    return encode_record(batch)


def encode_record(record: Any) -> bytes:
    return _encoder.encode(record).encode()


def pack(
    resource: dict[str, Any], metrics: dict[str, Any], entries: list[Entry], max_bytes: int
) -> Iterator[Batch]:
    """Batches of whole records, each within ``max_bytes`` as encoded (a record too large to fit any batch
    goes alone rather than being lost). Nothing is encoded twice: the records' JSON is spliced in."""
    current: list[Entry] = []
    size = _ENVELOPE_ALLOWANCE
    for entry in entries:
        if current and size + len(entry[2]) > max_bytes:
            yield _assemble(resource, metrics, current)
            current, size = [], _ENVELOPE_ALLOWANCE
        current.append(entry)
        size += len(entry[2]) + 1
    if current:
        yield _assemble(resource, metrics, current)


def _assemble(resource: dict[str, Any], metrics: dict[str, Any], entries: list[Entry]) -> Batch:
    sections: dict[str, list[Any]] = {}
    encoded: dict[str, list[bytes]] = {}
    for section, record, data in entries:
        sections.setdefault(section, []).append(record)
        encoded.setdefault(section, []).append(data)
    batch = Batch(build_batch(resource, sections, metrics))
    envelope = {key: value for key, value in batch.items() if key not in sections}
    parts = [encode_record(envelope)[:-1]]  # the envelope's JSON without its closing brace
    for section in RECORD_SECTIONS:
        if section in encoded:
            parts.append(b',"' + section.encode() + b'":[' + b",".join(encoded[section]) + b"]")
    parts.append(b"}")
    batch.encoded = b"".join(parts)
    return batch
