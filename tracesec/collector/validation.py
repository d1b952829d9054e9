"""Decoding and checking one batch against the wire format (tracesec/export/batch.schema.json).

Hand-written rather than driven by the schema because ingest has to keep up with tens of thousands of
spans a second; a test holds it to the same verdicts as the JSON Schema. The first problem found is
reported with the path of the field, e.g. ``spans[3].trace_id``, so the sender can tell what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from tracesec.events import EVENT_TYPES, SEVERITIES

_MAX_INT64 = 2**63 - 1
_SCALAR_TYPES = frozenset({str, int, float, bool})
_SPAN_KINDS = frozenset({"server", "client", "internal"})
_SPAN_STATUSES = frozenset({"unset", "ok", "error"})
_SEVERITIES = frozenset(SEVERITIES)
_REQUIRED_TOP = ("protocol_version", "batch_id", "resource")
_RESOURCE_FIELDS = (
    "service.name",
    "service.instance.id",
    "host.name",
    "process.pid",
    "telemetry.sdk.name",
    "telemetry.sdk.version",
)
SPAN_FIELDS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "status",
    "status_message",
    "attributes",
)
EVENT_FIELDS = (
    "event_id",
    "type",
    "severity",
    "blocked",
    "time_unix_nano",
    "trace_id",
    "span_id",
    "attributes",
)
_SPAN_FIELDS = frozenset(SPAN_FIELDS)
_EVENT_FIELDS = frozenset(EVENT_FIELDS)
_METRICS_FIELDS = frozenset({"dropped", "internal_errors"})
_HEX = {32: re.compile("[0-9a-f]{32}").fullmatch, 16: re.compile("[0-9a-f]{16}").fullmatch}


class InvalidBatch(ValueError):
    """A batch that breaks the wire format; ``path`` names the offending field."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


def decode_batch(body: bytes) -> dict[str, Any]:
    """Parse and check a request body; raises InvalidBatch (path ``body`` when it is not JSON at all)."""
    try:
        batch = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise InvalidBatch("body", f"not valid JSON ({exc})") from None
    validate_batch(batch)
    return batch  # type: ignore[no-any-return]


def _reject_constant(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value


def validate_batch(batch: Any) -> None:
    """Raise InvalidBatch for the first field that breaks the wire format; a valid batch passes whole."""
    _require_object(batch, "batch")
    _require_fields(batch, "", _REQUIRED_TOP)
    version = batch["protocol_version"]
    if not (_is_integer(version) and version == 1):
        raise InvalidBatch("protocol_version", f"expected 1, got {_show(version)}")
    _check_hex(batch["batch_id"], 32, "batch_id")
    if "sent_at_unix_nano" in batch:
        _check_count(batch["sent_at_unix_nano"], "sent_at_unix_nano")
    _check_resource(batch["resource"])
    if "spans" in batch:
        _check_list(batch["spans"], "spans", _check_span)
    if "events" in batch:
        _check_list(batch["events"], "events", _check_event)
    if "metrics" in batch:
        _check_metrics(batch["metrics"])
    for section in ("sketches", "inventory"):
        if section in batch:
            _check_list(batch[section], section, _require_object)


def _check_resource(resource: Any) -> None:
    _require_object(resource, "resource")
    _require_fields(resource, "resource", _RESOURCE_FIELDS)
    for key, value in resource.items():
        path = _child("resource", key)
        if key in ("service.name", "service.instance.id"):
            _check_text(value, path, min_length=1)
        elif key in ("host.name", "telemetry.sdk.version"):
            _check_text(value, path)
        elif key == "process.pid":
            _check_count(value, path)
        elif key == "telemetry.sdk.name":
            if value != "tracesec" or type(value) is not str:
                raise InvalidBatch(path, f"expected 'tracesec', got {_show(value)}")
        else:
            _check_attribute(value, path)


def _check_span(span: Any, path: str) -> None:
    _require_object(span, path)
    if span.keys() != _SPAN_FIELDS:
        _require_exact_fields(span, path, _SPAN_FIELDS)
    _check_hex(span["trace_id"], 32, path + ".trace_id")
    _check_hex(span["span_id"], 16, path + ".span_id")
    if span["parent_span_id"] is not None:
        _check_hex(span["parent_span_id"], 16, path + ".parent_span_id")
    _check_text(span["name"], path + ".name")
    _check_choice(span["kind"], _SPAN_KINDS, path + ".kind")
    _check_count(span["start_time_unix_nano"], path + ".start_time_unix_nano")
    _check_count(span["end_time_unix_nano"], path + ".end_time_unix_nano")
    _check_choice(span["status"], _SPAN_STATUSES, path + ".status")
    if span["status_message"] is not None:
        _check_text(span["status_message"], path + ".status_message")
    _check_attributes(span["attributes"], path + ".attributes")


def _check_event(event: Any, path: str) -> None:
    _require_object(event, path)
    if event.keys() != _EVENT_FIELDS:
        _require_exact_fields(event, path, _EVENT_FIELDS)
    _check_hex(event["event_id"], 32, path + ".event_id")
    _check_choice(event["type"], EVENT_TYPES, path + ".type")
    _check_choice(event["severity"], _SEVERITIES, path + ".severity")
    if type(event["blocked"]) is not bool:
        raise InvalidBatch(path + ".blocked", f"expected true or false, got {_show(event['blocked'])}")
    _check_count(event["time_unix_nano"], path + ".time_unix_nano")
    if event["trace_id"] is not None:
        _check_hex(event["trace_id"], 32, path + ".trace_id")
    if event["span_id"] is not None:
        _check_hex(event["span_id"], 16, path + ".span_id")
    _check_attributes(event["attributes"], path + ".attributes")


def _check_metrics(metrics: Any) -> None:
    _require_object(metrics, "metrics")
    if not metrics.keys() <= _METRICS_FIELDS:
        _require_exact_fields(metrics, "metrics", _METRICS_FIELDS, required=False)
    for name, counters in metrics.items():
        path = _child("metrics", name)
        _require_object(counters, path)
        for kind, count in counters.items():
            _check_count(count, _child(path, kind))


# -- field checks ------------------------------------------------------------------------------------


def _require_object(value: Any, path: str) -> None:
    if type(value) is not dict:
        raise InvalidBatch(path, f"expected an object, got {_show(value)}")


def _require_fields(obj: dict[str, Any], path: str, required: tuple[str, ...]) -> None:
    for name in required:
        if name not in obj:
            raise InvalidBatch(_child(path, name), "missing required field")


def _require_exact_fields(
    obj: dict[str, Any], path: str, allowed: frozenset[str], *, required: bool = True
) -> None:
    """The slow path once a closed object's keys differ from the expected set: say which key."""
    if required:
        _require_fields(obj, path, tuple(sorted(allowed)))
    unexpected = sorted(obj.keys() - allowed)
    if unexpected:
        raise InvalidBatch(_child(path, unexpected[0]), "unexpected field")


def _check_list(value: Any, path: str, check_item: Callable[[Any, str], None]) -> None:
    if type(value) is not list:
        raise InvalidBatch(path, f"expected an array, got {_show(value)}")
    for index, item in enumerate(value):
        check_item(item, f"{path}[{index}]")


def _check_hex(value: Any, length: int, path: str) -> None:
    if type(value) is not str or _HEX[length](value) is None:
        raise InvalidBatch(path, f"expected {length} lowercase hex digits, got {_show(value)}")


def _check_text(value: Any, path: str, *, min_length: int = 0) -> None:
    if type(value) is not str or len(value) < min_length:
        raise InvalidBatch(path, f"expected a {'non-empty ' if min_length else ''}string, got {_show(value)}")


def _check_choice(value: Any, choices: frozenset[str], path: str) -> None:
    if type(value) is not str or value not in choices:
        raise InvalidBatch(path, f"expected one of {', '.join(sorted(choices))}; got {_show(value)}")


def _is_integer(value: Any) -> bool:
    """JSON Schema's notion of an integer: a number without a fraction (1.0 counts, true does not)."""
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


def _check_count(value: Any, path: str) -> None:
    if not (_is_integer(value) and 0 <= value <= _MAX_INT64):
        raise InvalidBatch(path, f"expected a whole number from 0 to 2**63-1, got {_show(value)}")


def _check_attributes(value: Any, path: str) -> None:
    _require_object(value, path)
    for key, item in value.items():
        if type(item) not in _SCALAR_TYPES:
            _check_attribute(item, _child(path, key))


def _check_attribute(value: Any, path: str) -> None:
    if type(value) in _SCALAR_TYPES:
        return
    if type(value) is list:
        for index, item in enumerate(value):
            if type(item) not in _SCALAR_TYPES:
                raise InvalidBatch(
                    f"{path}[{index}]", f"expected a string, number or bool, got {_show(item)}"
                )
        return
    raise InvalidBatch(path, f"expected a string, number, bool or an array of those, got {_show(value)}")


def _child(path: str, key: str) -> str:
    """``path.key`` for a plain name, ``path['http.route']`` for any other key."""
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
