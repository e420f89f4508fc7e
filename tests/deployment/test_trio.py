"""On trio, every deployment entry point says clearly that it is asyncio-only, before doing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from asynccloud import NodeSpec, NotSupportedError, provision
from asynccloud.deployment import ScriptDeployment, SSHOptions, run_deployment
from asynccloud.drivers.memory import MemoryComputeDriver
from tests.deployment.conftest import local_node

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Overrides the package's asyncio-only backend: these tests are about trio."""
    return "trio"


async def test_deploy_node_on_trio_creates_nothing(tmp_path: Path) -> None:
    async with MemoryComputeDriver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(NotSupportedError, match=r"SSH deployment on trio.*asyncio only") as caught:
            await driver.deploy_node(
                name="n",
                size=size,
                image=image,
                deploy=ScriptDeployment("#!/bin/sh\n"),
                ssh_key=tmp_path / "k",
            )
        assert caught.value.provider == "memory"
        assert "backend='asyncio'" in str(caught.value)
        assert await driver.list_nodes() == []


async def test_run_deployment_on_trio() -> None:
    with pytest.raises(NotSupportedError, match="asyncio only"):
        await run_deployment(local_node(), ScriptDeployment("#!/bin/sh\n"), SSHOptions(key=b"unused"))


async def test_provision_with_deploy_on_trio_creates_nothing() -> None:
    async with MemoryComputeDriver() as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with pytest.raises(NotSupportedError, match="asyncio only"):
            await provision(
                driver, [NodeSpec("a", size, image)], deploy=ScriptDeployment("#!/bin/sh\n"), ssh=SSHOptions()
            )
        assert await driver.list_nodes() == []
        # Without deploy, provision runs on trio as on asyncio.
        result = await provision(driver, [NodeSpec("a", size, image)])
        assert result.ok
