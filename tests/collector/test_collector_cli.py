"""`tracesec collector` as a user runs it: refusals with clear messages, keys from the environment,
the database created on first start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from collector_client import post_batch

from tracesec.collector.process import CollectorProcess
from tracesec.collector.samples import sample_batch


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracesec.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_refuses_a_non_loopback_address_without_a_key(tmp_path: Path) -> None:
    result = _run_cli("collector", "--host", "0.0.0.0", "--db", str(tmp_path / "c.sqlite"))
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in result.stderr
    assert not (tmp_path / "c.sqlite").exists()


def test_unusable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = _run_cli("collector", "--db", str(tmp_path / "file" / "c.sqlite"))
    assert result.returncode == 1
    assert "cannot open the database" in result.stderr


def test_help_lists_the_collector_options() -> None:
    result = _run_cli("collector", "--help")
    assert result.returncode == 0
    options = (
        "--host",
        "--port",
        "--db",
        "--api-key",
        "--max-body-bytes",
        "--queue-size",
        "--retention-days",
    )
    options += ("--max-db-mb", "--retention-interval", "--drift-grace-minutes", "--block-seconds")
    for option in (*options, "--block-min-instances"):
        assert option in result.stdout


def test_keys_from_the_environment_and_database_created_on_first_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "new" / "folder" / "c.sqlite"
    monkeypatch.setenv("TRACESEC_COLLECTOR_API_KEYS", "k1, k2")
    with CollectorProcess(db, api_key="k2") as process:
        assert db.exists()
        for key, status in (("k1", 202), ("k2", 202), ("k3", 401)):
            reply = post_batch(process, sample_batch(spans=2), headers={"authorization": f"Bearer {key}"})
            assert reply.status_code == status
        assert httpx.get(process.url + "/v1/health").status_code == 401


@pytest.mark.parametrize(
    ("option", "value"), [("--retention-days", "-1"), ("--max-db-mb", "x"), ("--block-seconds", "0")]
)
def test_bad_retention_and_block_settings_are_refused_by_name(
    tmp_path: Path, option: str, value: str
) -> None:
    result = _run_cli("collector", "--db", str(tmp_path / "c.sqlite"), option, value)
    assert result.returncode == 2
    assert option in result.stderr
