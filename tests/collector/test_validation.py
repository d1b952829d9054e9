"""The hand-written validator against the JSON Schema (tracesec/export/batch.schema.json): the same
verdict on valid batches and on batches broken in every way hypothesis can think of."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracesec.export
from tracesec.collector.samples import sample_batch
from tracesec.collector.validation import InvalidBatch, decode_batch
from tracesec.events import EVENT_TYPES, SecurityEvent
from tracesec.spans import Span

SCHEMA = json.loads((Path(tracesec.export.__file__).parent / "batch.schema.json").read_text())
SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _full_batch() -> dict[str, Any]:
    batch = sample_batch(spans=3, events=2, seed=7)
    batch["spans"][1]["attributes"]["tags"] = ["a", "b"]
    batch["spans"][1]["attributes"]["ratio"] = 0.5
    batch["spans"][2]["status"], batch["spans"][2]["status_message"] = "error", "boom"
    batch["sketches"] = [{"kind": "hll", "key": "actors", "registers": "AAAA"}]
    batch["inventory"] = [{"route": "/api/orders", "methods": ["GET"]}]
    return batch


def _verdict(batch: Any) -> str | None:
    """None when the hand-written validator accepts the batch, else the path it names."""
    try:
        decode_batch(json.dumps(batch).encode())
    except InvalidBatch as exc:
        return exc.path
    return None


def test_schema_lists_exactly_the_event_types() -> None:
    assert set(SCHEMA["$defs"]["event"]["properties"]["type"]["enum"]) == EVENT_TYPES


def test_real_spans_and_events_are_valid() -> None:
    span = Span("GET /x", "server", trace_id=0xABC, attributes={"http.route": "/x", "n": 1})
    span.end()
    child = Span("SELECT", "client", trace_id=0xABC, parent_id=span.span_id)
    child.record_exception(ValueError("nope"))
    child.end()
    event = SecurityEvent("ssrf", "critical", blocked=True, trace_id=0xABC, span_id=span.span_id)
    batch = sample_batch(spans=0)
    batch["spans"] = [span.to_wire(), child.to_wire()]
    batch["events"] = [event.to_wire()]
    assert SCHEMA_VALIDATOR.is_valid(batch)
    assert _verdict(batch) is None


def test_sample_batches_are_valid() -> None:
    for batch in (_full_batch(), sample_batch(spans=50, events=5), sample_batch(spans=0)):
        SCHEMA_VALIDATOR.validate(batch)
        assert _verdict(batch) is None


def _set(batch: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(batch)
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return broken


def _delete(batch: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    broken = copy.deepcopy(batch)
    target = broken
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return broken


@pytest.mark.parametrize(
    ("broken", "path"),
    [
        (_set(_full_batch(), ("protocol_version",), 2), "protocol_version"),
        (_set(_full_batch(), ("batch_id",), "A" * 32), "batch_id"),
        (_set(_full_batch(), ("resource", "telemetry.sdk.name"), "otel"), "resource['telemetry.sdk.name']"),
        (_set(_full_batch(), ("resource", "service.name"), ""), "resource['service.name']"),
        (_delete(_full_batch(), ("resource", "process.pid")), "resource['process.pid']"),
        (_set(_full_batch(), ("spans", 2, "span_id"), "0" * 15), "spans[2].span_id"),
        (_set(_full_batch(), ("spans", 0, "start_time_unix_nano"), -1), "spans[0].start_time_unix_nano"),
        (_set(_full_batch(), ("spans", 0, "end_time_unix_nano"), 2**63), "spans[0].end_time_unix_nano"),
        (
            _set(_full_batch(), ("spans", 1, "attributes", "tags"), ["a", {"b": 1}]),
            "spans[1].attributes.tags[1]",
        ),
        (_set(_full_batch(), ("spans", 1, "extra"), 1), "spans[1].extra"),
        (_delete(_full_batch(), ("spans", 1, "status_message")), "spans[1].status_message"),
        (_set(_full_batch(), ("events", 1, "type"), "xss"), "events[1].type"),
        (_set(_full_batch(), ("events", 0, "blocked"), 0), "events[0].blocked"),
        (_set(_full_batch(), ("metrics", "dropped", "network"), -3), "metrics.dropped.network"),
        (_set(_full_batch(), ("metrics", "spans_sent"), {}), "metrics.spans_sent"),
        (_set(_full_batch(), ("sketches", 0), [1]), "sketches[0]"),
    ],
)
def test_each_break_is_named_by_path_and_the_schema_agrees(broken: dict[str, Any], path: str) -> None:
    assert _verdict(broken) == path
    assert not SCHEMA_VALIDATOR.is_valid(broken)


def test_not_json_and_non_finite_numbers_are_refused() -> None:
    for body in (b"{", b'{"protocol_version": NaN}', b'{"protocol_version": 1e999}', b"\xff"):
        with pytest.raises(InvalidBatch) as caught:
            decode_batch(body)
        assert caught.value.path == "body"


def test_unknown_top_level_sections_are_ignored_by_both() -> None:
    batch = _set(_full_batch(), ("actors",), [{"id": 1}])
    assert SCHEMA_VALIDATOR.is_valid(batch)
    assert _verdict(batch) is None


# -- property: random damage anywhere in a valid batch ---------------------------------------------

_INTERESTING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, 1.0, 1.5, -0.0, 2**63 - 1, 2**63, 1e18]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        ["0" * 16, "0" * 32, "a" * 15, "a" * 33, "A" * 32, "g" * 16, "server", "ok", "error", "tracesec"]
        + ["0" * 32 + "\n", "0" * 31 + "\n", "sql_injection", "critical", "low"]
    ),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()), max_size=3),
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3
    ),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_BASE = _full_batch()
_BASE_PATHS = _paths(_BASE)


@st.composite
def _damaged_batches(draw: st.DrawFn) -> dict[str, Any]:
    batch = copy.deepcopy(_BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        paths = _paths(batch) or [()]
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            return batch
        parent = batch
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[path[-1]] = draw(_INTERESTING)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "trace_id", "http.route", "kind", "dropped"]))] = draw(
                _INTERESTING
            )
        else:
            parent.append(draw(_INTERESTING))
    return batch


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_damaged_batches())
def test_hand_written_validator_agrees_with_the_schema(batch: dict[str, Any]) -> None:
    assert (_verdict(batch) is None) == SCHEMA_VALIDATOR.is_valid(batch)
