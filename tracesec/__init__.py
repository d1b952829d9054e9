"""tracesec: an in-process API-security agent for Python web applications.

``tracesec.install()`` at the top of the app is all it takes; see README.md.
"""

from __future__ import annotations

import logging
from typing import Any

from tracesec.agent import Agent, active, install, uninstall
from tracesec.config import ConfigError
from tracesec.context import current

__version__ = "0.1.0"
__all__ = ["Agent", "ConfigError", "__version__", "install", "set_user", "uninstall"]

_log = logging.getLogger("tracesec")
_warned_outside_request = False


def set_user(id: str | int, **attributes: Any) -> None:
    """Name the user of the current request; spans, events and behaviour checks then use it as the actor."""
    global _warned_outside_request
    ctx = current()
    if ctx is None:
        if not _warned_outside_request:
            _warned_outside_request = True
            _log.warning("tracesec.set_user() called outside a request: ignored")
        return
    ctx.user = (str(id), dict(attributes))
    agent = active()
    if agent is not None and agent.products is not None:
        agent.products.user_named(ctx)  # may raise Blocked: a denied user goes no further
