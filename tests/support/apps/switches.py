"""The environment switches the example apps read (see ``__init__``), and what their routes share."""

from __future__ import annotations

import os

INSTALL = os.environ.get("TEST_TRACESEC_INSTALL", "")
MIDDLEWARE = os.environ.get("TEST_MIDDLEWARE") == "1"
HANDLE_ERRORS = os.environ.get("TEST_HANDLE_ERRORS") == "1"
GATE_TIMEOUT = 10.0
"""Seconds a streaming route waits for the test to release its second chunk."""


def install_if(moment: str) -> None:
    if moment == INSTALL:
        import tracesec

        tracesec.install()


def sql_for(name: str) -> str:
    return f"SELECT * FROM users WHERE name = '{name}'"
