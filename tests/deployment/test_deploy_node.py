"""driver.deploy_node: create -> wait_until_running -> connect -> steps, end to end with the memory driver."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
import pytest

from asynccloud import ConfigurationError, DeploymentError, OperationFailedError, OperationTimeoutError
from asynccloud.deployment import HostKeyPolicy, MultiStepDeployment, ScriptDeployment, SSHKeyDeployment
from asynccloud.drivers.memory import MemoryComputeDriver
from asynccloud.models import NodeState
from tests.deployment.conftest import Keys, write_key

if TYPE_CHECKING:
    from pathlib import Path

    from tests.deployment.sshserver import SSHTestServer

pytestmark = pytest.mark.anyio


def _driver(**options: object) -> MemoryComputeDriver:
    return MemoryComputeDriver("test", address="127.0.0.1", boot_time=0.2, latency=0.01, **options)  # type: ignore[arg-type]


async def test_deploy_node_end_to_end(
    server: SSHTestServer, remote: Path, key_file: Path, tmp_path: Path
) -> None:
    known = tmp_path / "fleet_known_hosts"
    async with _driver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        script = ScriptDeployment('#!/bin/sh\necho "configured $1"\n', args=["web1"])
        node = await driver.deploy_node(
            name="web1",
            size=size,
            image=image,
            deploy=MultiStepDeployment(
                [SSHKeyDeployment(server.known_hosts_line().split(" ", 1)[1]), script]
            ),
            ssh_username="ubuntu",
            ssh_key=key_file,
            ssh_port=server.port,
            known_hosts=known,
            host_key_policy=HostKeyPolicy.ACCEPT_NEW,
            wait_period=0.05,
            timeout=10,
        )
        assert node.state is NodeState.RUNNING
        assert node.name == "web1"
        assert script.stdout == "configured web1\n"
        assert (remote / ".ssh" / "authorized_keys").exists()
        assert known.read_text() == server.known_hosts_line()
        assert [n.id for n in await driver.list_nodes()] == [node.id]


async def test_failed_step_raises_with_the_node_which_is_kept(
    server: SSHTestServer, key_file: Path, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    async with _driver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(DeploymentError, match="exited with status 2") as caught:
            await driver.deploy_node(
                name="db1", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\nexit 2\n"),
                ssh_key=key_file, ssh_port=server.port, known_hosts=known, wait_period=0.05,
            )  # fmt: skip
        node = caught.value.node
        assert node is not None
        assert node.name == "db1"
        assert [n.id for n in await driver.list_nodes()] == [node.id]  # not destroyed behind your back
        await node.destroy()  # the carried node is bound: clean-up is one call
        assert await driver.list_nodes() == []


async def test_node_that_fails_to_boot(key_file: Path, tmp_path: Path) -> None:
    def fault(operation: str, name: str) -> None:
        if operation == "boot":
            raise RuntimeError("kernel panic")

    async with _driver(fault=fault) as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(DeploymentError, match="did not come up") as caught:
            await driver.deploy_node(
                name="bad", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=key_file, known_hosts=tmp_path / "kh", wait_period=0.05,
            )  # fmt: skip
        assert caught.value.node is not None
        assert caught.value.node.name == "bad"
        assert isinstance(caught.value.__cause__, OperationFailedError)
        assert "is error" in str(caught.value)
        (kept,) = await driver.list_nodes()
        assert kept.state is NodeState.ERROR


async def test_wait_timeout_becomes_a_deployment_error(key_file: Path, tmp_path: Path) -> None:
    async with MemoryComputeDriver(boot_time=60) as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(DeploymentError) as caught:
            await driver.deploy_node(
                name="slow", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=key_file, known_hosts=tmp_path / "kh", wait_period=0.05, timeout=0.3,
            )  # fmt: skip
        assert isinstance(caught.value.__cause__, OperationTimeoutError)


async def test_bad_credentials_fail_before_creating_anything(tmp_path: Path, keys: Keys) -> None:
    encrypted = write_key(tmp_path / "enc", keys.ecdsa, fmt="pkcs8-pem", passphrase="right")
    async with _driver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(ConfigurationError, match="wrong passphrase"):
            await driver.deploy_node(
                name="x", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=encrypted, ssh_key_passphrase="wrong",
            )  # fmt: skip
        with pytest.raises(ConfigurationError, match="deployment step"):
            await driver.deploy_node(name="x", size=size, image=image, deploy="echo hi")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="host_key_policy"):
            await driver.deploy_node(
                name="x", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=encrypted, host_key_policy="yolo",
            )  # fmt: skip
        assert await driver.list_nodes() == []


async def test_cancelled_deploy_node_says_what_it_left(
    key_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with MemoryComputeDriver(boot_time=60) as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with anyio.move_on_after(0.2):
            await driver.deploy_node(
                name="interrupted", size=size, image=image, deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=key_file, known_hosts=tmp_path / "kh", wait_period=0.05,
            )  # fmt: skip
        (node,) = await driver.list_nodes()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("interrupted" in w and node.id in w for w in warnings)
