"""Fail open: an error inside tracesec is counted and logged once per kind, never raised into the app."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from tracesec.events import Blocked

log = logging.getLogger("tracesec")

_errors: Counter[str] = Counter()
_lock = threading.Lock()


def _reset_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)

T = TypeVar("T")


def note_internal_error(kind: str, exc: BaseException) -> None:
    """Count an internal error; the first of each kind is logged with its traceback."""
    with _lock:
        _errors[kind] += 1
        first = _errors[kind] == 1
    if first:
        log.warning("tracesec: internal error in %s (further ones are only counted)", kind, exc_info=exc)


def internal_errors() -> dict[str, int]:
    """Counts by kind since start; shipped with each batch as a self-metric."""
    with _lock:
        return dict(_errors)


def reset_internal_errors() -> None:
    with _lock:
        _errors.clear()


def guarded(kind: str, fn: Callable[..., T], *args: Any) -> T | None:
    """Run one tracesec hook; a block decision passes through, any other error stays inside."""
    try:
        return fn(*args)
    except Blocked:
        raise
    except Exception as exc:
        note_internal_error(kind, exc)
        return None
