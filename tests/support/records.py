"""Reading what the file transport (``TRACESEC_ENDPOINT=file:///...jsonl``) wrote."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def read_records(path: str | Path) -> list[Record]:
    """Every complete JSON line of ``path`` (a line still being written is skipped); [] if absent."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # the writer is mid-line
    return records


def server_spans(path: str | Path) -> list[Record]:
    return [r for r in read_records(path) if r.get("type") == "span" and r.get("kind") == "server"]


def wait_for_records(
    path: str | Path,
    predicate: Callable[[list[Record]], bool],
    *,
    select: Callable[[str | Path], list[Record]] = server_spans,
    timeout: float = 15.0,
) -> list[Record]:
    """Poll ``select(path)`` until ``predicate`` holds (bounded by ``timeout``); returns the last read.
    The caller asserts on the result, so a timeout shows what was there."""
    deadline = time.monotonic() + timeout
    records = select(path)
    while not predicate(records) and time.monotonic() < deadline:
        time.sleep(0.02)
        records = select(path)
    return records


def wait_for_spans(path: str | Path, count: int, timeout: float = 15.0) -> list[Record]:
    """At least ``count`` server spans, or whatever arrived within ``timeout``."""
    return wait_for_records(path, lambda spans: len(spans) >= count, timeout=timeout)


def attrs(span: Record) -> dict[str, Any]:
    return span["attributes"]  # type: ignore[no-any-return]
