"""Shared by every test folder: makes ``tests.support`` importable (the helpers, servers and example apps)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def clean_tracesec(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TRACESEC_* variable of the developer's shell leaks in, no agent is installed before or after
    the test, and the internal-error counters start at zero. Use it, or wrap it in an autouse fixture."""
    import tracesec
    from tracesec.failsafe import reset_internal_errors

    for name in list(os.environ):
        if name.startswith("TRACESEC_"):
            monkeypatch.delenv(name)
    tracesec.uninstall()
    reset_internal_errors()
    yield
    tracesec.uninstall()
