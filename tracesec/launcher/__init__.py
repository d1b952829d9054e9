"""``tracesec-run [--] COMMAND [ARGS...]``: run a command with tracesec installed in its Python processes.

The command is exec'd with this package's ``bootstrap`` folder first on PYTHONPATH, so Python runs its
``sitecustomize`` at start-up: that chains any sitecustomize of the user's own and calls
``tracesec.install()`` with the settings of the environment. The folder stays on PYTHONPATH on purpose:
a server that starts its workers as fresh interpreters (``uvicorn --workers``) gets them instrumented
too, each exactly once, since install() is idempotent and the bootstrap is imported once per process.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"
USAGE = """usage: tracesec-run [--] COMMAND [ARGS...]

Runs COMMAND with tracesec installed in every Python process it starts, e.g.
  tracesec-run gunicorn app:app
  tracesec-run uvicorn app:app
  tracesec-run python app.py
Settings come from TRACESEC_* environment variables (see README.md)."""


def launch_environment(environ: dict[str, str]) -> dict[str, str]:
    """The child's environment: the bootstrap folder first on PYTHONPATH, once."""
    env = dict(environ)
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(BOOTSTRAP_DIR)]
    env["PYTHONPATH"] = os.pathsep.join([str(BOOTSTRAP_DIR), *entries])
    return env


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    program = shutil.which(args[0])
    if program is None:
        print(f"tracesec-run: command not found: {args[0]}", file=sys.stderr)
        return 127
    return _replace_process(program, args)


def _replace_process(program: str, args: list[str]) -> NoReturn:
    os.execve(program, args, launch_environment(dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
