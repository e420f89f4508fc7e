"""The README's main job: ``examples/walkthrough.py`` end to end against moto server (``--endpoint``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_walkthrough_against_moto(moto_server: dict[str, str], backend: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "walkthrough.py"), "--endpoint", moto_server["endpoint"],
         "--backend", backend, "--nodes", "3"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        "- import a key pair",
        "- create 3 nodes concurrently",
        "running at",
        "- put them behind a load balancer",
        "3 members",
        "A (alias) ->",
        "uploaded site/index.bin: 1,048,576 bytes",
        "sha256 verified",
        "walkthrough finished",
    ):
        assert expected in out, out
    assert "could not remove" not in out, out
    assert out.count(" running at ") == 3
