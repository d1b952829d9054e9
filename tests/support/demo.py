"""Running ``tracesec demo`` into a database, for the tests that check what it leaves behind (the demo's
own tests and the dashboard's browser test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INJECTIONS = ("sql_injection", "shell_injection", "path_traversal", "ssrf")
BEHAVIOURS = (
    "rate_anomaly",
    "token_sharing",
    "enumeration",
    "exfiltration",
    "credential_stuffing",
    "scanner",
)


def run_demo(db: Path) -> subprocess.CompletedProcess[str]:
    """``tracesec demo --no-wait`` on free ports, keeping its collector's data in ``db``."""
    return subprocess.run(
        [sys.executable, "-m", "tracesec.cli", "demo", "--port", "0", "--shop-port", "0", "--no-wait"]
        + ["--db", str(db)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
