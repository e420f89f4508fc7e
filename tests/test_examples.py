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
