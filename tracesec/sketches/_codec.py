"""The compact binary and JSON forms every sketch shares.

Binary: ``b"TS"``, a format version, a one-byte kind code, the kind's fixed parameters (``struct``), then the
counters zlib-compressed (sketches are mostly zeros or small numbers, so this is where the size goes).
JSON: ``{"kind": ..., "data": <base64 of the binary form>}``, so a sketch travels inside a JSON batch.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

MAGIC = b"TS"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<2sBB")

KIND_CODES = {"count_min": 1, "hyperloglog": 2, "minhash": 3, "quantiles": 4}


class SketchFormatError(ValueError):
    """Bytes or JSON that do not describe a sketch this version can read."""


def pack(kind: str, params: struct.Struct, values: tuple[Any, ...], payload: bytes) -> bytes:
    return (
        _PREFIX.pack(MAGIC, FORMAT_VERSION, KIND_CODES[kind]) + params.pack(*values) + zlib.compress(payload)
    )


def unpack(kind: str, params: struct.Struct, data: bytes) -> tuple[tuple[Any, ...], bytes]:
    """(parameters, decompressed payload), after checking the prefix names ``kind``."""
    if len(data) < _PREFIX.size + params.size:
        raise SketchFormatError(f"{kind}: {len(data)} bytes is too short for a sketch")
    magic, version, code = _PREFIX.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise SketchFormatError(f"{kind}: not a tracesec sketch of format version {FORMAT_VERSION}")
    if code != KIND_CODES[kind]:
        raise SketchFormatError(f"expected a {kind} sketch, got kind code {code}")
    values = params.unpack_from(data, _PREFIX.size)
    try:
        payload = zlib.decompress(data[_PREFIX.size + params.size :])
    except zlib.error as exc:
        raise SketchFormatError(f"{kind}: corrupt payload ({exc})") from None
    return values, payload


def kind_of(data: bytes) -> str:
    """The kind named by a sketch's binary prefix."""
    if len(data) < _PREFIX.size:
        raise SketchFormatError("too short for a sketch")
    magic, version, code = _PREFIX.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise SketchFormatError(f"not a tracesec sketch of format version {FORMAT_VERSION}")
    for kind, known in KIND_CODES.items():
        if known == code:
            return kind
    raise SketchFormatError(f"unknown sketch kind code {code}")


def to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise SketchFormatError("sketch data is not valid base64") from None
