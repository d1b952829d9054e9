"""Shapes: the inferred schema of one value position (a parameter, a body, a field), as counts.

A shape is a plain JSON-friendly dict, the same in the agent and on the wire, so that observing a value
and merging two shapes from different processes are the only operations and both are exact: counts add.

    {"seen": 12,                          # values observed here
     "types": {"string": 11, "null": 1},  # JSON types; "integer" is kept apart from "number"
     "formats": {"email": 11},            # string values that had each format
     "labels": {"email": 12},             # observations that carried each sensitive label
     "enum": ["a", "b"],                  # distinct short tokens while the set looks small
     "enum_open": true,                   # the set is not small (then "enum" is absent)
     "properties": {"name": shape},       # objects: one shape per key
     "items": shape}                      # arrays: one shape for every element

A field is required where its ``seen`` equals the number of objects its parent was.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from tracesec.discovery.formats import string_format
from tracesec.discovery.labels import name_labels, value_labels

Shape = dict[str, Any]

MAX_PROPERTIES = 100
"""Keys kept per object (and parameters per location); more are not tracked, to bound memory."""
MAX_DEPTH = 8
"""Nesting followed into a JSON document."""
MAX_ITEMS = 10
"""Array elements inspected per array: enough to see the element shape, cheap on long lists."""
ENUM_MAX = 8
"""Distinct values a closed set may have."""
ENUM_MIN_EVIDENCE = 3
"""Each enum value must have been seen this many times on average before the set is called closed."""

_ENUM_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,31}")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,17})")
_DECIMAL = re.compile(r"-?\d{1,18}\.\d{1,18}")
_TYPE_ORDER = ("object", "array", "string", "number", "integer", "boolean")


def new_shape() -> Shape:
    return {"seen": 0, "types": {}}


def add_counts(target: dict[str, int], source: Mapping[str, int]) -> None:
    for key, count in source.items():
        target[key] = target.get(key, 0) + count


def increment(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def observe_kind(shape: Shape, kind: str) -> None:
    """Count one value of JSON type ``kind`` whose content is filled in by the caller or not looked at."""
    shape["seen"] += 1
    increment(shape["types"], kind)


def observe(shape: Shape, value: Any, name: str, enums: bool, depth: int = 0) -> None:
    """Fold one decoded JSON value seen under the field ``name`` into ``shape``."""
    shape["seen"] += 1
    types = shape["types"]
    hinted = name_labels(name) if name else ()
    if hinted:
        _add_labels(shape, hinted)
    if value is None:
        increment(types, "null")
    elif value is True or value is False:
        increment(types, "boolean")
    elif isinstance(value, int):
        increment(types, "integer")
    elif isinstance(value, float):
        increment(types, "number")
    elif isinstance(value, str):
        increment(types, "string")
        _observe_string(shape, value, enums and not hinted)
    elif isinstance(value, dict):
        increment(types, "object")
        if depth < MAX_DEPTH:
            properties = shape.setdefault("properties", {})
            for key, item in value.items():
                field = properties.get(key)
                if field is None:
                    if len(properties) >= MAX_PROPERTIES:
                        continue
                    field = properties[key] = new_shape()
                observe(field, item, key, enums, depth + 1)
    elif isinstance(value, list):
        increment(types, "array")
        if depth < MAX_DEPTH:
            items = shape.get("items")
            if items is None:
                items = shape["items"] = new_shape()
            for item in value[:MAX_ITEMS]:
                observe(items, item, name, enums, depth + 1)
    else:  # a framework's converted path value (UUID, Decimal ...): documented by its text
        increment(types, "string")
        _observe_string(shape, str(value), enums and not hinted)


def observe_text(shape: Shape, text: str, name: str, enums: bool) -> None:
    """Fold a value that arrived as text (query, path, form) in, typed by what it spells: ``42`` is an
    integer, ``true`` a boolean, as a framework declaring the parameter would document it."""
    if _INTEGER.fullmatch(text):
        observe(shape, int(text), name, enums)
    elif _DECIMAL.fullmatch(text):
        observe(shape, float(text), name, enums)
    elif text in ("true", "false"):
        observe(shape, text == "true", name, enums)
    else:
        observe(shape, text, name, enums)


def observe_presence(shape: Shape, name: str) -> None:
    """Fold in a value whose content is not looked at (header and cookie values): a string by name."""
    observe_kind(shape, "string")
    hinted = name_labels(name)
    if hinted:
        _add_labels(shape, hinted)


def observe_unknown(shape: Shape) -> None:
    """Count a value that could not be read (truncated or unparsable body): present, type unknown."""
    shape["seen"] += 1


def _observe_string(shape: Shape, text: str, enums: bool) -> None:
    fmt = string_format(text)
    if fmt is not None:
        increment(shape.setdefault("formats", {}), fmt)
    labels = value_labels(text, fmt)
    if labels:
        _add_labels(shape, labels)
    if shape.get("enum_open"):
        return
    values: list[str] | None = shape.get("enum")
    if not enums or fmt is not None or labels or not _ENUM_TOKEN.fullmatch(text):
        _open_enum(shape)
    elif values is None:
        shape["enum"] = [text]
    elif text not in values:
        if len(values) >= ENUM_MAX:
            _open_enum(shape)
        else:
            values.append(text)


def _open_enum(shape: Shape) -> None:
    shape["enum_open"] = True
    shape.pop("enum", None)


def _add_labels(shape: Shape, labels: tuple[str, ...]) -> None:
    counts = shape.setdefault("labels", {})
    for label in labels:
        counts[label] = counts.get(label, 0) + 1


def merge_shape(target: Shape, source: Mapping[str, Any]) -> None:
    """Fold ``source`` into ``target`` (mutated; ``source`` is left as it was)."""
    target["seen"] += source["seen"]
    for key in ("types", "formats", "labels"):
        if key in source:
            add_counts(target.setdefault(key, {}), source[key])
    if target.get("enum_open") or source.get("enum_open"):
        _open_enum(target)
    elif "enum" in source:
        values = target.setdefault("enum", [])
        values.extend(value for value in source["enum"] if value not in values)
        if len(values) > ENUM_MAX:
            _open_enum(target)
    if "properties" in source:
        merge_shape_maps(target.setdefault("properties", {}), source["properties"])
    if "items" in source:
        if "items" in target:
            merge_shape(target["items"], source["items"])
        else:
            target["items"] = copy.deepcopy(source["items"])


def merge_shape_maps(target: dict[str, Shape], source: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge two {name: shape} maps, keeping at most MAX_PROPERTIES names."""
    for name, shape in source.items():
        if name in target:
            merge_shape(target[name], shape)
        elif len(target) < MAX_PROPERTIES:
            target[name] = copy.deepcopy(dict(shape))


def resolved_types(shape: Mapping[str, Any]) -> list[str]:
    """The non-null JSON types seen, integer folded into number when both occur (5 and 5.5: a number)."""
    seen = shape["types"]
    found = [t for t in _TYPE_ORDER if seen.get(t)]
    if "number" in found and "integer" in found:
        found.remove("integer")
    return found


def type_kinds(shape: Mapping[str, Any]) -> frozenset[str]:
    """The types that matter for drift: a field that was an integer and is now a float has not changed
    kind; one that was a number and is now a string has."""
    return frozenset("number" if t == "integer" else t for t in resolved_types(shape))


def uniform_format(shape: Mapping[str, Any]) -> str | None:
    """The format every string value had, if one did."""
    strings = shape["types"].get("string", 0)
    for fmt, count in shape.get("formats", {}).items():
        if strings and count == strings:
            return str(fmt)
    return None


def closed_enum(shape: Mapping[str, Any]) -> list[str] | None:
    """The enum values, once the set has been seen often enough to believe it is closed."""
    values: list[str] | None = shape.get("enum")
    if not values or shape.get("enum_open"):
        return None
    if shape["types"].get("string", 0) < ENUM_MIN_EVIDENCE * len(values):
        return None
    return sorted(values)


def required_properties(shape: Mapping[str, Any]) -> list[str]:
    """Keys present in every object observed here."""
    objects = shape["types"].get("object", 0)
    return [key for key, field in shape.get("properties", {}).items() if objects and field["seen"] >= objects]


def iter_fields(shape: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every nested field as (dotted path, shape); array elements are ``path[]``."""
    for key, field in shape.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path, field
        yield from iter_fields(field, path)
    if "items" in shape:
        path = f"{prefix}[]"
        yield path, shape["items"]
        yield from iter_fields(shape["items"], path)
