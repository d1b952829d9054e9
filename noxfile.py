"""Developer sessions: tests, lint, typing, bench, corpus."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typing", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole suite, real servers on loopback (PostgreSQL tests skip with a reason if none can start)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", "tracesec", "tests", "benchmarks", "examples", "noxfile.py")
    session.run("ruff", "format", "--check", "tracesec")


@nox.session(python="3.11")
def typing(session: nox.Session) -> None:
    session.install("-e", ".[test]", "mypy>=1.10")
    session.run("mypy")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, each printing its table and writing benchmarks/results/*.json."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def corpus(session: nox.Session) -> None:
    """Detection and false-positive rates over shared/corpora; figures land in docs/detection.md."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks.corpus", *session.posargs)
