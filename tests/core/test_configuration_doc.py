"""docs/configuration.md lists every setting as `tracesec config --markdown` describes it, and
`tracesec config` shows what the agent would use, secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _tracesec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracesec.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_the_configuration_doc_is_the_generated_table() -> None:
    table = _tracesec("config", "--markdown")
    assert table.returncode == 0, table.stderr
    assert table.stdout.strip() in DOC.read_text(), (
        "docs/configuration.md is out of date: regenerate its table with `tracesec config --markdown`"
    )


def test_config_shows_effective_values_and_masks_secrets() -> None:
    shown = _tracesec("config", env={"TRACESEC_MODE": "block", "TRACESEC_API_KEY": "s3cret-key"})
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines() if line.split()}
    assert lines["TRACESEC_MODE"] == ["block", "(set)"]
    assert "s3cret-key" not in shown.stdout
    assert lines["TRACESEC_API_KEY"] == ["[REDACTED]", "(set)"]


def test_config_refuses_an_invalid_environment_clearly() -> None:
    shown = _tracesec("config", env={"TRACESEC_QUEUE_SIZE": "lots"})
    assert shown.returncode == 2
    assert "TRACESEC_QUEUE_SIZE" in shown.stderr
    assert "a whole number from 16 to 1000000" in shown.stderr
