"""The examples run as written (the README's main job)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_local_storage_tour(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "local_storage.py"), str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "md5 verified" in result.stdout
    assert "meta_data kept: {'owner': 'ana'}" in result.stdout
    assert "containers left: ['backups']" in result.stdout


def test_bulk_provision_with_a_failure_and_rollback() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "bulk_provision.py"), "--nodes", "40", "--concurrency", "10",
         "--latency", "0.02", "--fail", "web13", "--rollback"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "web13    failed: RuntimeError: injected failure creating web13" in result.stdout
    assert "summary: 0 succeeded, 1 failed" in result.stdout
    assert "nodes left at the provider: 0" in result.stdout


def test_bulk_provision_all_succeed() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "bulk_provision.py"), "--nodes", "100", "--concurrency", "25",
         "--latency", "0.05", "--wait"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "[ 100/100]" in result.stdout
    assert "summary: 100 succeeded, 0 failed, 0 rolled back" in result.stdout
