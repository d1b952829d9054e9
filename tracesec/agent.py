"""Lifecycle: install, fork, shutdown. The agent owns the exporter, the integrations and the products."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from tracesec.config import Config
from tracesec.export.transport import Transport
from tracesec.export.worker import Exportable, Exporter
from tracesec.hooks import HOOKS
from tracesec.patching import IntegrationManager
from tracesec.products import Products

log = logging.getLogger("tracesec")

_SERVER_PROGRAMS = frozenset({"gunicorn", "uvicorn", "hypercorn", "daphne", "waitress-serve", "granian"})


def make_transport(config: Config) -> Transport:
    endpoint = config.endpoint
    if endpoint == "console":
        from tracesec.export.local import ConsoleTransport

        return ConsoleTransport()
    if endpoint.startswith("file://"):
        from tracesec.export.local import FileTransport

        return FileTransport(endpoint)
    from tracesec.export.http import HttpTransport

    return HttpTransport(
        endpoint, config.api_key, timeout=config.export_timeout, retry_max_time=config.retry_max_time
    )


def default_service_name(argv: list[str] | None = None) -> str:
    """The app's own name when nothing says otherwise: the script, the `-m` module, or the module part
    of a server's ``module:app`` argument."""
    args = sys.argv if argv is None else argv
    program = Path(args[0]).stem if args and args[0] else ""
    if program in _SERVER_PROGRAMS:
        for arg in args[1:]:
            if ":" in arg and not arg.startswith("-"):
                return arg.split(":", 1)[0]
    if program in ("", "-c", "__main__"):
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        return spec.name.removesuffix(".__main__") if spec is not None else "python"
    return program


class Agent:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.service_hint: str | None = None
        self.exporter = Exporter(
            make_transport(config),
            service=self.service_name,
            queue_size=config.queue_size,
            batch_size=config.batch_size,
            max_batch_bytes=config.max_batch_bytes,
            flush_interval=config.flush_interval,
            on_reply=self._on_reply,
        )
        self.integrations = IntegrationManager(config.disabled_integrations)
        self.products: Products | None = None

    @property
    def enabled(self) -> bool:
        return self.config.mode != "off"

    def service_name(self) -> str:
        return self.config.service or self.service_hint or default_service_name()

    def suggest_service_name(self, name: str) -> None:
        """Frameworks offer the app's name (Flask's import name, Django's project) on their first request;
        the first offer wins, and an empty one ("") still ends the asking."""
        if self.service_hint is None:
            self.service_hint = name if name != "__main__" else ""

    def enqueue(self, item: Exportable) -> None:
        self.exporter.enqueue(item)

    def start(self) -> None:
        if not self.enabled:
            log.info("tracesec: mode=off, nothing is patched")
            return
        self.products = Products(self)
        self.integrations.start()

    def stop(self) -> None:
        self.integrations.stop()
        HOOKS.clear()
        self.exporter.shutdown(self.config.shutdown_timeout)

    def _on_reply(self, reply: dict[str, Any]) -> None:
        if self.products is not None:
            self.products.apply_reply(reply)

    def after_fork_in_child(self) -> None:
        self.exporter.after_fork_in_child()
        if self.products is not None:
            self.products.after_fork_in_child()


_lock = threading.RLock()
_agent: Agent | None = None
_process_hooks_registered = False


def active() -> Agent | None:
    """The installed agent, or None."""
    return _agent


def install(**overrides: Any) -> Agent:
    """Start tracesec once per process; later calls return the same agent."""
    global _agent
    with _lock:
        if _agent is not None:
            if overrides:
                log.info("tracesec: already installed; install(%s) ignored", ", ".join(overrides))
            return _agent
        config = Config.load(**overrides)
        log.setLevel(config.log_level.upper())
        agent = Agent(config)
        _agent = agent
        agent.start()
        _register_process_hooks()
        return agent


def uninstall() -> None:
    """Restore every patch, flush what is queued, and forget the agent."""
    global _agent
    with _lock:
        agent, _agent = _agent, None
    if agent is not None:
        agent.stop()


def _register_process_hooks() -> None:
    global _process_hooks_registered
    if _process_hooks_registered:
        return
    _process_hooks_registered = True
    atexit.register(_shutdown_at_exit)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _shutdown_at_exit() -> None:
    agent = _agent
    if agent is not None:
        agent.exporter.shutdown(agent.config.shutdown_timeout)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()
    agent = _agent
    if agent is not None:
        agent.after_fork_in_child()
