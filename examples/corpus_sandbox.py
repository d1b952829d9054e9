"""A gunicorn config that sandboxes every worker of examples/vulnerable_app.py before the app is imported,
so a payload tracesec misses during the corpus run can do no harm on this machine:

- processes: ``os.system`` returns a fake status; ``_posixsubprocess.fork_exec`` (what subprocess runs),
  ``os.posix_spawn[p]``, ``os.fork``, ``os.forkpty`` and ``os.exec*`` refuse with PermissionError;
- network: ``socket.socket.connect``/``connect_ex``/``sendto`` only reach 127.0.0.1 or ::1 on the ports in
  CORPUS_SANDBOX_PORTS; ``getaddrinfo``/``gethostbyname*`` answer numeric addresses and localhost only;
- files: ``open``/``io.open``/``os.open`` read only inside CORPUS_SANDBOX_ROOT (decoy files) and the
  Python installation and repository, and write only inside CORPUS_SANDBOX_WRITABLE.

tracesec is installed when the app is imported, after this hook, so its sink checks wrap these guards:
the guards sit below the check, where a missed payload would have run. Every refused or faked call is
recorded as a JSON line in CORPUS_SANDBOX_LOG. Each worker tests its sandbox before serving and stops
the server (gunicorn's boot-error exit) when any guard lets a probe through.

    gunicorn -c python:examples.corpus_sandbox examples.vulnerable_app:app
"""

from __future__ import annotations

import _posixsubprocess
import builtins
import errno
import io
import ipaddress
import json
import os
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

limit_request_line = 0
"""No request-line cap (gunicorn's default is 4094 bytes): long payloads reach the app whole."""

WORKER_BOOT_ERROR = 3
"""The exit code that makes gunicorn's arbiter stop instead of starting another worker."""
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
REPOSITORY = Path(__file__).resolve().parent.parent


class SandboxRefused(PermissionError):
    """A call the sandbox did not let through."""


class Sandbox:
    """The guards of one worker process and the record of what they refused."""

    def __init__(self, root: str, writable: str, ports: frozenset[int], log_path: str) -> None:
        self.readable = tuple(
            os.path.join(os.path.realpath(str(place)), "")
            for place in (
                root,
                writable,
                sys.prefix,
                sys.base_prefix,
                REPOSITORY,
                *sysconfig.get_paths().values(),
            )
        )
        self.writable = (os.path.join(os.path.realpath(writable), ""),)
        self.ports = ports
        self._log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._open = builtins.open
        self._os_open = os.open
        self._getaddrinfo = socket.getaddrinfo
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._sendto = socket.socket.sendto

    def record(self, kind: str, call: str, target: Any) -> None:
        line = json.dumps({"pid": os.getpid(), "kind": kind, "call": call, "target": plain(target)})
        os.write(self._log, line.encode() + b"\n")

    def refuse(self, kind: str, call: str, target: Any) -> SandboxRefused:
        self.record(kind, call, target)
        return SandboxRefused(errno.EPERM, f"sandbox refused {call}", str(target)[:200])

    # -- processes ------------------------------------------------------------------------------------

    def install_process_guards(self) -> None:
        def system(command: Any) -> int:
            self.record("process", "os.system", command)
            return 0

        def refusing(call: str) -> Callable[..., Any]:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise self.refuse("process", call, args[:2])

            return refuse

        os.system = system
        fork_exec = refusing("_posixsubprocess.fork_exec")
        _posixsubprocess.fork_exec = fork_exec
        subprocess._fork_exec = fork_exec  # type: ignore[attr-defined]
        for name in (
            "posix_spawn",
            "posix_spawnp",
            "fork",
            "forkpty",
            "execv",
            "execve",
            "execvp",
            "execvpe",
        ):
            if hasattr(os, name):
                setattr(os, name, refusing(f"os.{name}"))

    # -- network --------------------------------------------------------------------------------------

    def allowed_peer(self, family: int, address: Any) -> bool:
        if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return False
        try:
            host = ipaddress.ip_address(str(address[0]).split("%")[0])
        except ValueError:
            return False
        return host.is_loopback and int(address[1]) in self.ports

    def install_network_guards(self) -> None:
        sandbox = self

        def connect(sock: socket.socket, address: Any) -> None:
            if not sandbox.allowed_peer(sock.family, address):
                raise sandbox.refuse("network", "socket.connect", address)
            sandbox._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if not sandbox.allowed_peer(sock.family, address):
                sandbox.record("network", "socket.connect_ex", address)
                return errno.ECONNREFUSED
            return sandbox._connect_ex(sock, address)

        def sendto(sock: socket.socket, data: Any, *rest: Any) -> int:
            if not sandbox.allowed_peer(sock.family, rest[-1]):
                raise sandbox.refuse("network", "socket.sendto", rest[-1])
            return int(sandbox._sendto(sock, data, *rest))

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode(errors="replace") if isinstance(host, bytes) else host
            if name is None or str(name).lower() in LOOPBACK_NAMES or _numeric(str(name)):
                return sandbox._getaddrinfo(host, *args, **kwargs)
            sandbox.record("dns", "socket.getaddrinfo", host)
            raise socket.gaierror(socket.EAI_NONAME, "sandbox: no DNS")

        def gethostbyname(host: str) -> str:
            return str(getaddrinfo(host, None, socket.AF_INET)[0][4][0])

        def refuse_lookup(*args: Any) -> Any:
            sandbox.record("dns", "socket.gethostbyname_ex/addr", args)
            raise socket.gaierror(socket.EAI_NONAME, "sandbox: no DNS")

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.socket.sendto = sendto  # type: ignore[assignment]
        socket.getaddrinfo = getaddrinfo
        socket.gethostbyname = gethostbyname
        socket.gethostbyname_ex = refuse_lookup
        socket.gethostbyaddr = refuse_lookup

    # -- files ----------------------------------------------------------------------------------------

    def allowed_file(self, file: Any, writing: bool) -> bool:
        if isinstance(file, int):
            return True  # an already open descriptor
        resolved = os.path.join(os.path.realpath(os.fsdecode(file)), "")
        return resolved.startswith(self.writable if writing else self.readable) or resolved == "/dev/null/"

    def install_file_guards(self) -> None:
        sandbox = self

        def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if not sandbox.allowed_file(file, writing=not set("wax+").isdisjoint(mode)):
                raise sandbox.refuse("file", "open", file)
            return sandbox._open(file, mode, *args, **kwargs)

        def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            writing = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            if not sandbox.allowed_file(path, writing):
                raise sandbox.refuse("file", "os.open", path)
            return sandbox._os_open(path, flags, *args, **kwargs)

        builtins.open = guarded_open
        io.open = guarded_open
        os.open = guarded_os_open

    # -- the self-test --------------------------------------------------------------------------------

    def probes_let_through(self) -> list[str]:
        """Harmless probes of every guard; the names of those that were not refused."""
        through = []
        probes: dict[str, Callable[[], object]] = {
            "subprocess": lambda: subprocess.run(["true"], check=False),
            "os.posix_spawn": lambda: os.posix_spawn("/bin/true", ["true"], {}),
            "os.fork": _fork_and_leave,
            "connect": lambda: socket.create_connection(("192.0.2.1", 9), timeout=0.2),
            "getaddrinfo": lambda: socket.getaddrinfo("example.invalid", 80),
            "read outside": lambda: open("/etc/hostname", "rb").close(),
            "write outside": lambda: open(self.readable[0] + "probe", "w").close(),
        }
        for name, probe in probes.items():
            try:
                probe()
            except (SandboxRefused, socket.gaierror):
                continue
            through.append(name)
        if os.system("exit 7") != 0:  # a real shell would answer 7 << 8
            through.append("os.system")
        return through


def _fork_and_leave() -> None:
    """Probe: a child that a failed guard lets fork leaves at once."""
    if os.fork() == 0:
        os._exit(0)


def plain(value: Any) -> Any:
    """A call's argument as JSON: bytes as file-system strings, sequences as lists, the rest as repr."""
    if isinstance(value, (bytes, bytearray)):
        return os.fsdecode(bytes(value))
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value if value is None or isinstance(value, (str, int, float)) else repr(value)


def _numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def sandbox_from_environment() -> Sandbox:
    return Sandbox(
        os.environ["CORPUS_SANDBOX_ROOT"],
        os.environ["CORPUS_SANDBOX_WRITABLE"],
        frozenset(int(port) for port in os.environ["CORPUS_SANDBOX_PORTS"].split(",")),
        os.environ["CORPUS_SANDBOX_LOG"],
    )


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn's hook, in each new worker before it imports the app."""
    sandbox = sandbox_from_environment()
    sandbox.install_process_guards()
    sandbox.install_network_guards()
    sandbox.install_file_guards()
    through = sandbox.probes_let_through()
    sandbox.record("selftest", "post_fork", through)
    if through:
        server.log.error("corpus sandbox: probes not refused: %s", ", ".join(through))
        os._exit(WORKER_BOOT_ERROR)
