"""Child processes: ``subprocess.Popen`` (run, call and check_output are built on it), ``os.system`` and
``os.popen`` (itself a Popen, checked once, under its own name). The shell sink is checked before the
process starts; the span lasts until the exit code is known (``wait``/``poll``, which ``communicate``,
``run`` and ``with Popen(...)`` all end in)."""

from __future__ import annotations

import os
import shlex
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from tracesec.context import instrumentation_suppressed
from tracesec.hooks import check_sink
from tracesec.integrations._client_spans import (
    ClientSpan,
    SpanScope,
    finish_client_span,
    note_dependency,
    start_client_span,
)
from tracesec.integrations._http import redact_url
from tracesec.patching import Args, Kwargs, Patcher, Wrapped
from tracesec.redaction import REDACTED, is_sensitive_name, redact_text

_SHELL_POSITION = 8  # Popen(args, bufsize, executable, stdin, stdout, stderr, preexec_fn, close_fds, shell)
_SPAN = "_tracesec_span"
_api: ContextVar[str] = ContextVar("tracesec_process_api", default="subprocess")


def patch_subprocess(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Popen, "__init__", _popen_init)
    patcher.wrap(module.Popen, "wait", _popen_finished)
    patcher.wrap(module.Popen, "poll", _popen_finished)


def patch_os(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module, "system", _os_system)
    patcher.wrap(module, "popen", _os_popen)


def command_and_argv(command: Any, shell: bool) -> tuple[str, list[str] | None]:
    """What the shell sink sees: the command line the shell parses (or the argv joined), and the argv."""
    if isinstance(command, (str, bytes, os.PathLike)):
        text = os.fsdecode(command)
        return text, None if shell else [text]
    argv = [os.fsdecode(part) for part in command]
    if shell:
        return (argv[0] if argv else ""), argv
    return shlex.join(argv), argv


def program_name(command_line: str, argv: list[str] | None, shell: bool) -> str:
    first = command_line.split(None, 1)[0] if shell and command_line.strip() else (argv or [""])[0]
    return os.path.basename(first)


def redact_argv(argv: list[str]) -> list[str]:
    """Values of sensitive flags (``--password x``, ``--token=x``), URL credentials and secret-shaped
    strings replaced."""
    redacted: list[str] = []
    hide_next = False
    for arg in argv:
        name, equals, _value = arg.partition("=")
        if hide_next:
            redacted.append(REDACTED)
            hide_next = False
        elif arg.startswith("-") and is_sensitive_name(name.lstrip("-")):
            redacted.append(f"{name}={REDACTED}" if equals else arg)
            hide_next = not equals
        elif "://" in arg:
            redacted.append(redact_url(arg))
        else:
            redacted.append(redact_text(arg))
    return redacted


def _redact_command_line(command_line: str) -> str:
    return " ".join(redact_argv(command_line.split()))


def _start_process_span(
    command_line: str, argv: list[str] | None, shell: bool, api: str
) -> ClientSpan | None:
    """Check the shell sink (may raise Blocked: the process then never starts) and start the span."""
    check_sink("shell", command_line, {"argv": argv, "shell": shell, "api": api})
    program = program_name(command_line, argv, shell)
    span = start_client_span(program or "process")
    if span is not None:
        span.attributes["process.executable.name"] = program
        span.attributes["tracesec.process.shell"] = shell
        if argv is not None:
            span.defer("process.command_args", redact_argv, argv)
        else:
            span.defer("process.command_line", _redact_command_line, command_line)
        note_dependency("process", program)
    return span


def _popen_init(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if instrumentation_suppressed():
        return wrapped(*args, **kwargs)
    shell = bool(args[_SHELL_POSITION] if len(args) > _SHELL_POSITION else kwargs.get("shell", False))
    command_line, argv = command_and_argv(args[0] if args else kwargs["args"], shell)
    span = _start_process_span(command_line, argv, shell, _api.get())
    if span is None:
        return wrapped(*args, **kwargs)
    try:
        wrapped(*args, **kwargs)
    except BaseException as exc:
        finish_client_span(span, exc)
        raise
    span.attributes["process.pid"] = instance.pid
    setattr(instance, _SPAN, span)
    return None


def _popen_finished(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    result = wrapped(*args, **kwargs)
    if instance.returncode is not None:
        span: ClientSpan | None = instance.__dict__.pop(_SPAN, None)
        if span is not None:
            span.attributes["process.exit.code"] = instance.returncode
            finish_client_span(span)
    return result


def _os_system(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if instrumentation_suppressed():
        return wrapped(*args, **kwargs)
    command_line, _ = command_and_argv(args[0] if args else kwargs["command"], True)
    span = _start_process_span(command_line, None, True, "os.system")
    with SpanScope(span):
        status = wrapped(*args, **kwargs)
        if span is not None:
            span.attributes["process.exit.code"] = _exit_code(status)
    return status


def _exit_code(wait_status: int) -> int:
    try:
        return os.waitstatus_to_exitcode(wait_status)
    except ValueError:
        return wait_status


def _os_popen(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    token = _api.set("os.popen")
    try:
        return wrapped(*args, **kwargs)
    finally:
        _api.reset(token)
