"""Child processes (subprocess, os.system, os.popen) and file access (open, os, os.path, pathlib,
shutil): sink checks once per call the app made, process spans with redacted argv and exit codes, file
entries on the server span."""

from __future__ import annotations

import builtins
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.downstream.conftest import Traced
from tracesec.events import Blocked
from tracesec.integrations.files import ACCESS_ATTRIBUTE, ACCESS_COUNT_ATTRIBUTE


def test_subprocess_span_with_redacted_argv_and_exit_code(traced: Callable[..., Traced]) -> None:
    agent = traced()
    argv = [sys.executable, "-c", "import sys; sys.exit(3)", "--password", "hunter2", "--token=abc"]
    with agent.request() as ctx:
        assert subprocess.run(argv, check=False).returncode == 3
        program = os.path.basename(sys.executable)
        assert ("process", program) in ctx.downstream
    span = agent.client_span()
    attributes = span["attributes"]
    assert span["name"] == program
    assert attributes["process.exit.code"] == 3
    assert attributes["tracesec.process.shell"] is False
    assert attributes["process.command_args"][3:] == ["--password", "[REDACTED]", "--token=[REDACTED]"]
    [check] = agent.checks("shell")
    assert check.details == {"argv": argv, "shell": False, "api": "subprocess"}


def test_shell_commands_os_system_and_os_popen(traced: Callable[..., Traced]) -> None:
    agent = traced()
    with agent.request():
        assert subprocess.check_output("echo hi", shell=True) == b"hi\n"
        assert os.waitstatus_to_exitcode(os.system("exit 4")) == 4
        with os.popen("echo there") as pipe:
            assert pipe.read() == "there\n"
    checks = agent.checks("shell")
    assert [(c.value, c.details["api"], c.details["shell"]) for c in checks] == [
        ("echo hi", "subprocess", True),
        ("exit 4", "os.system", True),
        ("echo there", "os.popen", True),
    ]
    spans = agent.client_spans()
    assert [s["attributes"]["process.exit.code"] for s in spans] == [0, 4, 0]
    assert spans[0]["attributes"]["process.command_line"] == "echo hi"


def test_a_blocked_command_never_starts(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    agent.block.add("shell")
    marker = tmp_path / "ran"
    with agent.request():
        with pytest.raises(Blocked):
            subprocess.run(["touch", str(marker)], check=False)
        with pytest.raises(Blocked):
            os.system(f"touch {marker}")
    assert not marker.exists()
    assert agent.client_spans() == []


def test_outside_a_request_processes_are_checked_not_recorded(traced: Callable[..., Traced]) -> None:
    agent = traced()
    subprocess.run(["true"], check=False)
    assert len(agent.checks("shell")) == 1
    assert agent.client_spans() == []


def test_every_file_call_is_checked_once(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    source, target = tmp_path / "a.txt", tmp_path / "b.txt"
    with agent.request():
        source.write_text("data")
        shutil.copy(source, target)
        assert os.path.exists(target)
        with open(target) as handle:
            assert handle.read() == "data"
        os.remove(target)
    path_checks = [(c.details["operation"], c.value) for c in agent.checks("path")]
    assert path_checks == [
        ("pathlib.Path.write_text", str(source)),
        ("shutil.copy", str(source)),
        ("shutil.copy", str(target)),
        ("os.path.exists", str(target)),
        ("open", str(target)),
        ("os.remove", str(target)),
    ]


def test_writes_and_outside_reads_are_noted_on_the_server_span(
    traced: Callable[..., Traced], tmp_path: Path
) -> None:
    agent = traced()
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    inside = Path(__file__)
    with agent.request() as ctx:
        inside.read_text()
        with open(outside) as handle:
            handle.read()
        with open(tmp_path / "new.txt", "w") as handle:
            handle.write("y")
        attributes = ctx.attributes
    assert attributes[ACCESS_ATTRIBUTE] == [f"open r {outside}", f"open w {tmp_path / 'new.txt'}"]
    assert attributes[ACCESS_COUNT_ATTRIBUTE] == 2


def test_file_entries_are_bounded(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    with agent.request() as ctx:
        for i in range(50):
            (tmp_path / f"f{i}").write_bytes(b"")
        attributes = ctx.attributes
    assert attributes[ACCESS_COUNT_ATTRIBUTE] == 50
    assert len(attributes[ACCESS_ATTRIBUTE]) == 32


def test_a_blocked_path_is_never_touched(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    victim = tmp_path / "keep.txt"
    victim.write_text("keep")
    agent.block.add("path")
    with agent.request():
        with pytest.raises(Blocked), open(victim, "w"):
            pass
        with pytest.raises(Blocked):
            os.unlink(victim)
        with pytest.raises(Blocked):
            victim.unlink()
        with pytest.raises(Blocked):
            shutil.rmtree(tmp_path)
    agent.block.clear()
    assert victim.read_text() == "keep"


def test_file_descriptors_are_not_paths(traced: Callable[..., Traced], tmp_path: Path) -> None:
    agent = traced()
    fd = os.open(tmp_path / "fd.txt", os.O_WRONLY | os.O_CREAT)
    with agent.request(), open(fd, "w") as handle:
        handle.write("x")
    assert [c.details["operation"] for c in agent.checks("path")] == ["os.open"]
    assert agent.checks("path")[0].details["mode"] == "w"


def test_uninstall_restores_file_functions(traced: Callable[..., Traced]) -> None:
    patched = [
        (builtins, "open"),
        (os, "stat"),
        (os.path, "exists"),
        (pathlib.Path, "read_text"),
        (shutil, "copy"),
        (subprocess.Popen, "__init__"),
    ]
    originals = [getattr(owner, name) for owner, name in patched]
    traced()
    assert builtins.open is not originals[0]
    import tracesec

    tracesec.uninstall()
    assert [getattr(owner, name) for owner, name in patched] == originals
