"""What a protection event says: which sink, which input (source, path, payload), where in the app, who
and on which route. Built only when a detector fired, so it may cost a few microseconds."""

from __future__ import annotations

import os
import sys
import sysconfig
from typing import TYPE_CHECKING, Any

from tracesec.failsafe import guarded
from tracesec.hooks import HOOKS
from tracesec.redaction import redact_text

if TYPE_CHECKING:
    from tracesec.context import RequestContext

MAX_EVIDENCE_CHARS = 256
MAX_FRAMES = 64


def _library_roots() -> tuple[str, ...]:
    """tracesec itself, wrapt, the standard library and installed packages: never the app's code."""
    import wrapt

    import tracesec

    places = {os.path.dirname(tracesec.__file__), os.path.dirname(wrapt.__file__)}
    paths = sysconfig.get_paths()
    places.update(paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib") if name in paths)
    return tuple(sorted({os.path.join(os.path.realpath(place), "") for place in places}))


_roots = _library_roots()
_is_library: dict[str, bool] = {}


def app_frame(skip: int = 1) -> str | None:
    """``file:line:function`` of the innermost frame outside tracesec, wrapt, the standard library and
    installed packages: the application code that called the sink."""
    frame = sys._getframe(skip)
    for _ in range(MAX_FRAMES):
        filename = frame.f_code.co_filename
        library = _is_library.get(filename)
        if library is None:
            library = filename.startswith("<") or os.path.realpath(filename).startswith(_roots)
            if len(_is_library) < 4096:
                _is_library[filename] = library
        if not library:
            return f"{filename}:{frame.f_lineno}:{frame.f_code.co_name}"
        if frame.f_back is None:
            return None
        frame = frame.f_back
    return None


def shorten(text: str) -> str:
    """Evidence text as shipped: at most MAX_EVIDENCE_CHARS characters, secrets redacted."""
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + "..."
    return redact_text(text)


def request_attributes(ctx: RequestContext) -> dict[str, Any]:
    """Where and who: route, method, path, client and actor (the behaviour product's, or the app's user)."""
    attributes: dict[str, Any] = {
        "http.request.method": ctx.method,
        "url.path": ctx.path,
        "client.address": ctx.client_ip,
    }
    if ctx.route is not None:
        attributes["http.route"] = ctx.route
    actor = ctx.state.get("actor")
    if actor is None and HOOKS.name_actor is not None:
        actor = guarded("evidence.actor", HOOKS.name_actor, ctx)
    actor_attributes = getattr(actor, "span_attributes", None)
    if isinstance(actor_attributes, dict):
        attributes.update(actor_attributes)
    elif ctx.user is not None:
        attributes["tracesec.actor.id"] = ctx.user[0]
        attributes["tracesec.actor.kind"] = "user"
    return attributes
