"""File access: ``open`` (builtins and io), ``os`` and ``os.path`` file functions, ``pathlib.Path`` file
methods and ``shutil``. Each checks the path sink before it runs; inside a request, writes and reads
outside the app's own tree (the working directory and the Python installation, where imports,
templates and static files live) are noted as cheap entries on the server span, never as spans.

These wrap every ``open()`` in the process, so the path is kept tiny: two ContextVar reads, then nothing
more unless a sink check is subscribed or a request is running. Functions built on others (pathlib,
shutil, os.path, os.makedirs) mark themselves running, so the os/io calls they make are not checked
again: one check per call the app made."""

from __future__ import annotations

import builtins
import os
import sys
import sysconfig
from collections.abc import Callable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from tracesec.context import RequestContext, current, instrumentation_suppressed
from tracesec.hooks import HOOKS, check_sink
from tracesec.patching import Args, Kwargs, Patcher, Wrapped, Wrapper

MAX_FILE_ENTRIES = 32
ACCESS_ATTRIBUTE = "tracesec.file.accesses"
ACCESS_COUNT_ATTRIBUTE = "tracesec.file.access_count"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_READ_ONLY = "r"

ModeOf = Callable[[Args, Kwargs], Any]
_in_path_call: ContextVar[bool] = ContextVar("tracesec_in_path_call", default=False)
_quiet_roots: tuple[str, ...] | None = None


def _argument(position: int, name: str, default: Any) -> ModeOf:
    def mode_of(args: Args, kwargs: Kwargs) -> Any:
        return args[position] if len(args) > position else kwargs.get(name, default)

    return mode_of


def _fixed(mode: str) -> ModeOf:
    return lambda args, kwargs: mode


def _os_open_mode(args: Args, kwargs: Kwargs) -> str:
    flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
    return "w" if isinstance(flags, int) and flags & _WRITE_FLAGS else _READ_ONLY


def path_hook(
    operation: str,
    path_names: tuple[str, ...],
    mode_of: ModeOf | None = None,
    *,
    on_self: bool = False,
    composite: bool = False,
) -> Wrapper:
    """The wrapper for one file function. ``path_names`` name its path arguments in order (after
    ``self`` when ``on_self``: pathlib); ``mode_of`` gives the open mode, or the kind of change for
    functions that modify; None marks a function that only looks."""

    def wrapper(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if _in_path_call.get() or instrumentation_suppressed():
            return wrapped(*args, **kwargs)
        checks = HOOKS.sink_checks.get("path")
        ctx = current()
        if not (checks or ctx is not None or composite):
            return wrapped(*args, **kwargs)
        token = _in_path_call.set(True)  # the checks' own file calls, and ours below, are not checked
        try:
            if checks or ctx is not None:
                paths = [instance] if on_self else []
                paths.extend(
                    args[i] if i < len(args) else kwargs[name]
                    for i, name in enumerate(path_names)
                    if i < len(args) or name in kwargs
                )
                _observe(ctx, operation, paths, None if mode_of is None else mode_of(args, kwargs))
            if composite:
                return wrapped(*args, **kwargs)
        finally:
            _in_path_call.reset(token)
        return wrapped(*args, **kwargs)

    return wrapper


def _observe(ctx: RequestContext | None, operation: str, paths: list[Any], mode: Any) -> None:
    for path in paths:
        if isinstance(path, int):
            continue  # a file descriptor: already open
        text = _path_text(path)
        check_sink("path", text, {"operation": operation, "mode": mode})
        if ctx is not None and mode is not None:
            note_file_access(ctx, operation, str(mode), text)


def _path_text(path: Any) -> str:
    try:
        return os.fsdecode(path)
    except TypeError:
        return str(path)


def note_file_access(ctx: RequestContext, operation: str, mode: str, path: str) -> None:
    """Add ``operation mode path`` to the server span: every change, and reads outside the app's tree."""
    if mode in (_READ_ONLY, "rb", "rt", "br", "tr") and _inside_app_tree(path):
        return
    attributes = ctx.attributes
    count = attributes.get(ACCESS_COUNT_ATTRIBUTE, 0) + 1
    attributes[ACCESS_COUNT_ATTRIBUTE] = count
    if count <= MAX_FILE_ENTRIES:
        attributes.setdefault(ACCESS_ATTRIBUTE, []).append(f"{operation} {mode} {path}")


def _inside_app_tree(path: str) -> bool:
    global _quiet_roots
    if _quiet_roots is None:
        places = {os.getcwd(), sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
        _quiet_roots = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in places if p}))
    return os.path.abspath(path).startswith(_quiet_roots)


_OPEN = path_hook("open", ("file",), _argument(1, "mode", _READ_ONLY))


def patch_open(module: ModuleType, patcher: Patcher) -> None:
    """``builtins.open`` and ``io.open`` are one function under two names: each name is wrapped."""
    patcher.wrap(builtins, "open", _OPEN)
    patcher.wrap(module, "open", _OPEN)


def patch_os(module: ModuleType, patcher: Patcher) -> None:
    hooks: dict[str, Wrapper] = {
        "open": path_hook("os.open", ("path",), _os_open_mode),
        "remove": path_hook("os.remove", ("path",), _fixed("delete")),
        "unlink": path_hook("os.unlink", ("path",), _fixed("delete")),
        "rename": path_hook("os.rename", ("src", "dst"), _fixed("rename")),
        "listdir": path_hook("os.listdir", ("path",)),
        "scandir": path_hook("os.scandir", ("path",)),
        "stat": path_hook("os.stat", ("path",)),
        "mkdir": path_hook("os.mkdir", ("path",), _fixed("create")),
        "rmdir": path_hook("os.rmdir", ("path",), _fixed("delete")),
        "makedirs": path_hook("os.makedirs", ("name",), _fixed("create"), composite=True),
    }
    for name, hook in hooks.items():
        patcher.wrap(module, name, hook)
    for name in ("exists", "isfile", "getsize", "realpath"):
        patcher.wrap(module.path, name, path_hook(f"os.path.{name}", ("path",), composite=True))


_PATHLIB_METHODS: tuple[tuple[str, tuple[str, ...], ModeOf], ...] = (
    ("open", (), _argument(0, "mode", _READ_ONLY)),
    ("read_text", (), _fixed("r")),
    ("read_bytes", (), _fixed("rb")),
    ("write_text", (), _fixed("w")),
    ("write_bytes", (), _fixed("wb")),
    ("unlink", (), _fixed("delete")),
    ("rename", ("target",), _fixed("rename")),
    ("replace", ("target",), _fixed("rename")),
    ("mkdir", (), _fixed("create")),
    ("rmdir", (), _fixed("delete")),
    ("touch", (), _fixed("create")),
)


def patch_pathlib(module: ModuleType, patcher: Patcher) -> None:
    for name, path_names, mode_of in _PATHLIB_METHODS:
        hook = path_hook(f"pathlib.Path.{name}", path_names, mode_of, on_self=True, composite=True)
        patcher.wrap(module.Path, name, hook)


def patch_shutil(module: ModuleType, patcher: Patcher) -> None:
    hooks: dict[str, Wrapper] = {
        "copy": path_hook("shutil.copy", ("src", "dst"), _fixed("copy"), composite=True),
        "copyfile": path_hook("shutil.copyfile", ("src", "dst"), _fixed("copy"), composite=True),
        "copytree": path_hook("shutil.copytree", ("src", "dst"), _fixed("copy"), composite=True),
        "move": path_hook("shutil.move", ("src", "dst"), _fixed("rename"), composite=True),
        "rmtree": path_hook("shutil.rmtree", ("path",), _fixed("delete"), composite=True),
    }
    for name, hook in hooks.items():
        patcher.wrap(module, name, hook)
