"""provision(deploy=...): each node gets its own copy of the step, over real SSH; failures and rollback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from asynccloud import (
    ConfigurationError,
    DeploymentError,
    NodeSpec,
    ProvisionEvent,
    ProvisionStage,
    provision,
)
from asynccloud.deployment import Deployment, HostKeyPolicy, ScriptDeployment, SSHClient
from asynccloud.drivers.memory import MemoryComputeDriver
from tests.deployment.conftest import Keys, ssh_options, write_key
from tests.deployment.sshserver import SSHTestServer

if TYPE_CHECKING:
    from pathlib import Path

    from asynccloud.models import Node

pytestmark = pytest.mark.anyio


class NamedScript(Deployment):
    """Writes a file named after the node, and fails on one node: per-node behaviour."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.ran_on: str | None = None

    async def run(self, node: Node, client: SSHClient) -> Node:
        self.ran_on = node.name
        result = await client.run(
            f"echo {node.name} > {node.name}.txt && exit {int(node.name == self.fail_on)}"
        )
        if result.exit_status:
            raise DeploymentError(f"{node.name} refused", node)
        return node


async def test_deploy_to_every_node_with_progress(
    server: SSHTestServer, remote: Path, key_file: Path, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"  # all nodes are the same host here: recorded exactly once
    events: list[ProvisionEvent] = []
    # All "nodes" are one host here: the default script name, fresh for every run, keeps them apart.
    script = ScriptDeployment("#!/bin/sh\necho hello from $(pwd)\n")
    async with MemoryComputeDriver(address="127.0.0.1", boot_time=0.05, latency=0.01) as driver:
        result = await provision(
            driver,
            [
                NodeSpec(f"web{i}", (await driver.list_sizes())[0], (await driver.list_images())[0])
                for i in range(6)
            ],
            concurrency=3,
            deploy=script,
            ssh=ssh_options(server, key_file, known, host_key_policy=HostKeyPolicy.ACCEPT_NEW),
            on_progress=events.append,
            wait_period=0.02,
        )
    assert result.ok, result.failed
    copies = [o.deployment for o in result.outcomes]
    assert len({id(c) for c in copies}) == 6
    assert script not in copies
    assert all(
        isinstance(c, ScriptDeployment) and c.stdout == f"hello from {remote.resolve()}\n" for c in copies
    )
    assert script.stdout is None  # the template itself never runs
    for i in range(6):
        stages = [e.stage for e in events if e.spec.name == f"web{i}"]
        assert stages == [ProvisionStage.CREATED, ProvisionStage.RUNNING, ProvisionStage.DEPLOYED]
    assert known.read_text() == server.known_hosts_line()


async def test_deploy_failures_are_per_node_and_keep_their_nodes(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    async with MemoryComputeDriver(address="127.0.0.1") as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        result = await provision(
            driver,
            [NodeSpec(f"db{i}", size, image) for i in range(4)],
            deploy=NamedScript(fail_on="db2"),
            ssh=ssh_options(server, key_file, known_hosts),
            wait_period=0.02,
        )
        ((spec, error),) = result.failed
        assert spec.name == "db2"
        assert isinstance(error, DeploymentError)
        assert error.node is not None
        assert error.node.name == "db2"
        assert [o.deployment.ran_on for o in result.outcomes if isinstance(o.deployment, NamedScript)] == [
            "db0", "db1", "db2", "db3",
        ]  # fmt: skip
        assert sorted(p.name for p in remote.glob("db*.txt")) == ["db0.txt", "db1.txt", "db2.txt", "db3.txt"]
        assert len(await driver.list_nodes()) == 4  # the failed node is kept (rollback is off)


async def test_deploy_failure_with_rollback_destroys_all(
    server: SSHTestServer, key_file: Path, known_hosts: Path
) -> None:
    async with MemoryComputeDriver(address="127.0.0.1") as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        result = await provision(
            driver,
            [NodeSpec(f"db{i}", size, image) for i in range(4)],
            concurrency=1,
            deploy=ScriptDeployment("#!/bin/sh\nexit 9\n"),
            ssh=ssh_options(server, key_file, known_hosts),
            rollback_on_error=True,
            wait_period=0.02,
        )
        assert [s.name for s, _ in result.failed] == ["db0"]
        assert "status 9" in str(result.failed[0][1])
        assert await driver.list_nodes() == []
        assert result.outcomes[0].rolled_back
        assert all(o.cancelled for o in result.outcomes[1:])


async def test_bad_keys_fail_before_anything_is_created(tmp_path: Path, keys: Keys) -> None:
    enc = write_key(tmp_path / "enc", keys.rsa, fmt="pkcs8-pem", passphrase="right")
    async with MemoryComputeDriver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(ConfigurationError, match="wrong passphrase"):
            await provision(
                driver,
                [NodeSpec("a", size, image)],
                deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh=ssh_options(
                    SSHTestServer(tmp_path, [], port=2222), enc, tmp_path / "kh", passphrase="wrong"
                ),
            )
        with pytest.raises(ConfigurationError, match="deployment step"):
            await provision(driver, [NodeSpec("a", size, image)], deploy="echo")  # type: ignore[arg-type]
        assert await driver.list_nodes() == []


async def test_cancelled_while_deploying_closes_connections_and_rolls_back(
    server: SSHTestServer, key_file: Path, known_hosts: Path
) -> None:
    events: list[ProvisionEvent] = []
    async with MemoryComputeDriver(address="127.0.0.1") as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with anyio.move_on_after(1.0) as scope:
            await provision(
                driver,
                [NodeSpec(f"app{i}", size, image) for i in range(3)],
                deploy=ScriptDeployment("#!/bin/sh\nsleep 30\n"),
                ssh=ssh_options(server, key_file, known_hosts),
                rollback_on_error=True,
                on_progress=events.append,
                wait_period=0.02,
            )
        assert scope.cancelled_caught
        assert await driver.list_nodes() == []
        assert sorted(e.spec.name for e in events if e.stage is ProvisionStage.ROLLED_BACK) == [
            "app0",
            "app1",
            "app2",
        ]
        assert len(server.commands) == 3  # every script had started: the cancel hit them mid-run
