"""examples/bulk_provision.py deploying over SSH to the in-process test server (which plays every node)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import anyio
import asyncssh
import pytest

from tests.deployment.conftest import write_key
from tests.test_examples import EXAMPLES

if TYPE_CHECKING:
    from pathlib import Path

    from tests.deployment.sshserver import SSHTestServer

pytestmark = pytest.mark.anyio


async def test_example_deploys_a_script_to_every_node(
    server: SSHTestServer, tmp_path: Path, key_file: Path
) -> None:
    known = tmp_path / "known_hosts"
    result = await anyio.run_process(
        [
            sys.executable, str(EXAMPLES / "bulk_provision.py"), "--nodes", "6", "--concurrency", "3",
            "--latency", "0.02", "--ssh-port", str(server.port), "--ssh-user", "deployer",
            "--ssh-key", str(key_file), "--known-hosts", str(known),
        ],
        check=False,
    )  # fmt: skip
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert out.count(" deployed mem-") == 6
    assert out.count(": hello from ") == 6
    assert "summary: 6 succeeded, 0 failed" in out
    assert known.read_text() == server.known_hosts_line()  # accept-new recorded the one host once
    assert not list(server.root.glob("deployment_*.sh"))  # delete=True cleaned up


async def test_example_wrong_key_fails_every_node_fast(server: SSHTestServer, tmp_path: Path) -> None:
    stranger = write_key(tmp_path / "stranger", asyncssh.generate_private_key("ssh-ed25519"))
    result = await anyio.run_process(
        [
            sys.executable, str(EXAMPLES / "bulk_provision.py"), "--nodes", "3", "--latency", "0.01",
            "--ssh-port", str(server.port), "--ssh-key", str(stranger),
        ],
        check=False,
    )  # fmt: skip
    out = result.stdout.decode()
    assert result.returncode == 1
    assert out.count("SSH authentication as root@127.0.0.1") >= 3
    assert "summary: 0 succeeded, 3 failed" in out
