"""The compute contract: the same portable scenarios on every compute driver with a server to run against.

Drivers: the in-memory driver and EC2 against moto server (session fixture, 127.0.0.1). Differences the
providers cannot hide are stated where they are allowed (a destroyed node may linger as ``TERMINATED``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import (
    Capability,
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    NotSupportedError,
)
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.drivers.memory import MemoryComputeDriver
from asynccloud.models import KeyPair, Node, NodeImage, NodeSize, NodeState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from asynccloud.drivers.base import ComputeDriver

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

# A real ed25519 public key: providers parse what they import.
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl contract@asynccloud"
)
# An EC2 instance id that does not exist (well-formed, so moto answers "not found", not "malformed").
MISSING_NODE = "i-0123456789abcdef0"


@pytest.fixture(params=["memory", pytest.param("ec2", marks=pytest.mark.integration)])
async def compute(request: pytest.FixtureRequest) -> AsyncIterator[ComputeDriver]:
    driver: ComputeDriver
    if request.param == "memory":
        driver = MemoryComputeDriver(boot_time=0.05)
    else:
        moto: dict[str, str] = request.getfixturevalue("moto_server")
        driver = EC2NodeDriver(
            moto["access_key_id"], moto["secret_access_key"], region=moto["region"], endpoint=moto["endpoint"]
        )
    async with driver:
        yield driver


def unique(prefix: str = "contract") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def size_and_image(compute: ComputeDriver) -> tuple[NodeSize, NodeImage]:
    sizes = await compute.list_sizes()
    assert sizes
    images = await compute.list_images()
    if not images and isinstance(compute, EC2NodeDriver):  # nothing of our own: pick a public image
        images = await compute.list_images(owner="amazon", name="amzn2-ami-hvm-*")
    assert images
    return min(sizes, key=lambda s: (s.ram or 0, s.id)), images[0]


async def gone(compute: ComputeDriver, node: Node) -> bool:
    try:
        return (await compute.get_node(node.id)).state is NodeState.TERMINATED
    except NodeNotFoundError:
        return True


# ----------------------------------------------------------------------------------------------- catalogue


async def test_sizes_images_and_locations(compute: ComputeDriver) -> None:
    size, image = await size_and_image(compute)
    assert size.id
    assert size.ram
    assert size.ram > 0
    assert [s.id async for s in compute.iterate_sizes()] == [s.id for s in await compute.list_sizes()]
    assert (await compute.get_image(image.id)).id == image.id
    with pytest.raises(ImageNotFoundError):
        await compute.get_image("ami-00000000000000000" if isinstance(compute, EC2NodeDriver) else "no-such")
    locations = await compute.list_locations()
    assert locations
    assert all(loc.id for loc in locations)


# --------------------------------------------------------------------------------------------------- nodes


async def test_node_life_cycle(compute: ComputeDriver) -> None:
    size, image = await size_and_image(compute)
    name = unique("node")
    node = await compute.create_node(name, size, image, location=(await compute.list_locations())[0])
    assert node.name == name
    assert node.state in (NodeState.PENDING, NodeState.RUNNING)
    assert node.size_id == size.id
    assert node.image_id == image.id

    [(running, ips)] = await compute.wait_until_running([node], wait_period=0.05, timeout=30)
    assert running.id == node.id
    assert running.state is NodeState.RUNNING
    assert ips
    assert ips == running.public_ips
    assert node.id in [n.id async for n in compute.iterate_nodes()]
    assert (await compute.get_node(node.id)).name == name

    if compute.supports(Capability.NODE_REBOOT):
        await compute.reboot_node(node)
    else:
        with pytest.raises(NotSupportedError):
            await compute.reboot_node(node)
    if compute.supports(Capability.NODE_START_STOP):
        await compute.stop_node(node)
        assert (await compute.get_node(node.id)).state in (NodeState.STOPPING, NodeState.STOPPED)
        await compute.start_node(node)
        assert (await compute.get_node(node.id)).state in (NodeState.PENDING, NodeState.RUNNING)

    await node.destroy()
    assert await gone(compute, node)  # removed, or listed as TERMINATED for a while (EC2)


async def test_several_nodes_at_once_and_in_order(compute: ComputeDriver) -> None:
    size, image = await size_and_image(compute)
    nodes = [await compute.create_node(unique("many"), size, image) for _ in range(3)]
    pairs = await compute.wait_until_running(list(reversed(nodes)), wait_period=0.05, timeout=30)
    assert [n.id for n, _ in pairs] == [n.id for n in reversed(nodes)]
    for node in nodes:
        await compute.destroy_node(node)
    assert all([await gone(compute, n) for n in nodes])


async def test_a_missing_node(compute: ComputeDriver) -> None:
    with pytest.raises(NodeNotFoundError):
        await compute.get_node(MISSING_NODE)


# ----------------------------------------------------------------------------------------------- key pairs


async def test_key_pairs(compute: ComputeDriver, tmp_path: Path) -> None:
    if not compute.supports(Capability.KEY_PAIRS):
        with pytest.raises(NotSupportedError):
            await compute.list_key_pairs()
        return
    name = unique("key")
    imported = await compute.import_key_pair_from_string(name, PUBLIC_KEY)
    assert imported.name == name
    assert imported.fingerprint
    assert imported.private_key is None
    assert (await compute.get_key_pair(name)).fingerprint == imported.fingerprint
    assert name in [k.name async for k in compute.iterate_key_pairs()]
    with pytest.raises(KeyPairAlreadyExistsError):
        await compute.import_key_pair_from_string(name, PUBLIC_KEY)

    path = tmp_path / "id.pub"
    path.write_text(PUBLIC_KEY + "\n", encoding="utf-8")
    from_file = await compute.import_key_pair_from_file(unique("file"), path)
    assert from_file.fingerprint == imported.fingerprint

    if compute.supports(Capability.KEY_PAIR_CREATE):
        created = await compute.create_key_pair(unique("new"))
        assert created.private_key is not None
        assert "PRIVATE KEY" in created.private_key.get_secret_value()
        await compute.delete_key_pair(created)

    for pair in (imported, from_file):
        await compute.delete_key_pair(pair)
    with pytest.raises(KeyPairNotFoundError):
        await compute.get_key_pair(name)
    assert name not in [k.name for k in await compute.list_key_pairs()]


async def test_a_node_with_a_key_pair(compute: ComputeDriver) -> None:
    size, image = await size_and_image(compute)
    pair: KeyPair = await compute.import_key_pair_from_string(unique("nodekey"), PUBLIC_KEY)
    node = await compute.create_node(unique("keyed"), size, image, key_pair=pair)
    await compute.destroy_node(node)
    await compute.delete_key_pair(pair)
