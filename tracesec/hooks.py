"""The bus between integrations and products.

Integrations (libraries) raise facts here; products (capture, protect, behavior, discovery) subscribe. Neither
imports the other's internals. Every subscriber runs guarded: a ``Blocked`` decision passes through, any other
error is counted and swallowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tracesec.context import _current
from tracesec.events import Blocked
from tracesec.failsafe import guarded, note_internal_error

if TYPE_CHECKING:
    from tracesec.context import RequestContext

RequestHook = Callable[["RequestContext"], None]
SinkCheck = Callable[["RequestContext | None", str, str, Mapping[str, Any]], None]
"""(request or None, sink kind, the value reaching the sink, details) -> None, may raise Blocked."""
Contributor = Callable[[], Mapping[str, list[Any]]]
"""Called on the export worker at each flush: extra batch sections, e.g. {"sketches": [...]}."""
RecordProcessor = Callable[["RequestContext"], None]
"""Called on the export worker with each finished request, before it is serialised."""

SINK_KINDS = ("sql", "shell", "path", "outbound")


class Hooks:
    """Subscriber lists; the agent fills them at install and empties them at uninstall."""

    def __init__(self) -> None:
        self.request_start: list[RequestHook] = []
        self.request_end: list[RequestHook] = []
        self.sink_checks: dict[str, list[SinkCheck]] = {}
        self.record_processors: list[RecordProcessor] = []
        self.contributors: list[Contributor] = []
        self.name_actor: Callable[[RequestContext], object] | None = None
        """The behaviour product's naming of a request's actor, for events raised before it ran."""

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def add_sink_check(self, kind: str, check: SinkCheck) -> None:
        if kind not in SINK_KINDS:
            raise ValueError(f"unknown sink kind {kind!r}; known: {', '.join(SINK_KINDS)}")
        self.sink_checks.setdefault(kind, []).append(check)


HOOKS = Hooks()


_STAGES = {kind: f"sink.{kind}" for kind in SINK_KINDS}
_NO_DETAILS: Mapping[str, Any] = {}


def check_sink(kind: str, value: str, details: Mapping[str, Any] | None = None) -> None:
    """Called by an integration just before a sink runs; a subscriber may raise Blocked to stop it."""
    checks = HOOKS.sink_checks.get(kind)
    if not checks:
        return
    ctx = _current.get()
    stage = _STAGES[kind]
    for check in checks:
        guarded(stage, check, ctx, kind, value, details or _NO_DETAILS)


def run_request_hooks(hooks: list[RequestHook], ctx: RequestContext, stage: str) -> None:
    """``guarded`` inlined: this runs twice per request."""
    for hook in hooks:
        try:
            hook(ctx)
        except Blocked:
            raise
        except Exception as exc:
            note_internal_error(stage, exc)
