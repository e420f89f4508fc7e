"""The EC2 driver against moto server on 127.0.0.1 (session fixture): every verb, on asyncio and trio.

moto flips states at once (``pending`` → ``running`` on the next describe, stop → ``stopped``, terminate →
``terminated``), so waits succeed on the first poll; intermediate states are covered by the unit tests.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import NodeSpec, provision
from asynccloud.drivers.aws._query import text
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.errors import (
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
)
from asynccloud.models import NodeImage, NodeSize, NodeState, VolumeState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]

# An ed25519 public key (moto parses the material, so it must be a real key).
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@asynccloud"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def ec2(moto_server: dict[str, str]) -> AsyncIterator[EC2NodeDriver]:
    async with EC2NodeDriver(
        moto_server["access_key_id"],
        moto_server["secret_access_key"],
        region=moto_server["region"],
        endpoint=moto_server["endpoint"],
    ) as driver:
        yield driver


async def size_and_image(ec2: EC2NodeDriver) -> tuple[NodeSize, NodeImage]:
    [size] = await ec2.list_sizes(instance_types=["t2.micro"])
    images = await ec2.list_images(owner="amazon", name="amzn2-ami-hvm-*-x86_64-gp2")
    return size, images[0]


async def test_sizes_images_locations(ec2: EC2NodeDriver) -> None:
    sizes = await ec2.list_sizes(instance_types=["t3.micro", "m5.large"])
    by_id = {s.id: s for s in sizes}
    assert by_id["t3.micro"].vcpus == 2
    assert by_id["t3.micro"].ram == 1024
    assert by_id["m5.large"].ram == 8192
    assert by_id["t3.micro"].price is not None
    assert await ec2.list_images() == []  # nothing of our own: the public catalogue is not listed
    images = await ec2.list_images(owner="amazon", name="amzn2-ami-hvm-*")
    assert images
    assert all((i.name or "").startswith("amzn2-ami-hvm-") for i in images)
    image = await ec2.get_image(images[0].id)
    assert image.name == images[0].name
    with pytest.raises(ImageNotFoundError):
        await ec2.get_image("ami-00000000000000000")
    zones = await ec2.list_locations()
    assert "us-east-1a" in [z.id for z in zones]


async def test_key_pairs(ec2: EC2NodeDriver, tmp_path: Path) -> None:
    created = await ec2.create_key_pair(unique("gen"))
    assert created.private_key is not None
    assert "PRIVATE KEY" in created.private_key.get_secret_value()
    imported = await ec2.import_key_pair_from_string(unique("imp"), PUBLIC_KEY)
    key_file = tmp_path / "id.pub"
    key_file.write_text(PUBLIC_KEY + "\n")
    from_file = await ec2.import_key_pair_from_file(unique("file"), key_file)
    names = {k.name for k in await ec2.list_key_pairs()}
    assert {created.name, imported.name, from_file.name} <= names
    fetched = await ec2.get_key_pair(imported.name)
    assert fetched.fingerprint == imported.fingerprint
    assert fetched.private_key is None
    with pytest.raises(KeyPairAlreadyExistsError):
        await ec2.import_key_pair_from_string(imported.name, PUBLIC_KEY)
    for pair in (created, imported, from_file):
        await ec2.delete_key_pair(pair)
    with pytest.raises(KeyPairNotFoundError):
        await ec2.get_key_pair(imported.name)


async def test_node_life_cycle(ec2: EC2NodeDriver) -> None:
    size, image = await size_and_image(ec2)
    zone = (await ec2.list_locations())[1]
    pair = await ec2.import_key_pair_from_string(unique("k"), PUBLIC_KEY)
    name = unique("node")
    node = await ec2.create_node(
        name, size, image, location=zone, key_pair=pair, user_data="#!/bin/sh\necho hi\n"
    )
    assert node.name == name
    assert node.state in (NodeState.PENDING, NodeState.RUNNING)
    assert node.location_id == zone.id
    assert node.extra["key_name"] == pair.name
    [(running, ips)] = await ec2.wait_until_running([node], wait_period=0.1, timeout=30)
    assert running.state is NodeState.RUNNING
    assert ips == running.public_ips
    assert ips
    assert node.id in {n.id for n in await ec2.list_nodes()}
    assert [n.id for n in await ec2.list_nodes(filters={"tag:Name": name})] == [node.id]
    await ec2.reboot_node(node)
    await ec2.stop_node(node)
    assert (await ec2.get_node(node.id)).state is NodeState.STOPPED
    await ec2.start_node(node)
    assert (await ec2.get_node(node.id)).state in (NodeState.PENDING, NodeState.RUNNING)
    await ec2.destroy_node(node)
    assert (await ec2.get_node(node.id)).state is NodeState.TERMINATED
    with pytest.raises(NodeNotFoundError):
        await ec2.get_node("i-0123456789abcdef0")
    await ec2.delete_key_pair(pair)


async def test_create_node_into_a_subnet_with_security_groups_and_tags(ec2: EC2NodeDriver) -> None:
    size, image = await size_and_image(ec2)
    # The network pieces come from plain EC2 Query calls: the portable API does not manage VPCs.
    vpc = text(await ec2._call("CreateVpc", {"CidrBlock": "10.42.0.0/16"}), "vpc/vpcId")
    assert vpc
    subnet = text(
        await ec2._call("CreateSubnet", {"VpcId": vpc, "CidrBlock": "10.42.1.0/24"}), "subnet/subnetId"
    )
    assert subnet
    group = text(
        await ec2._call(
            "CreateSecurityGroup",
            {"GroupName": unique("sg"), "GroupDescription": "asynccloud test", "VpcId": vpc},
        ),
        "groupId",
    )
    assert group
    name = unique("net-node")
    node = await ec2.create_node(
        name, size, image, subnet=subnet, security_groups=[group], tags={"team": "web"}
    )
    try:
        fetched = await ec2.get_node(node.id)
        assert fetched.extra["subnet_id"] == subnet
        assert fetched.extra["vpc_id"] == vpc
        assert [g["id"] for g in fetched.extra["security_groups"]] == [group]
        assert fetched.extra["tags"] == {"Name": name, "team": "web"}
        assert all(ip.startswith("10.42.1.") for ip in fetched.private_ips)
    finally:
        await ec2.destroy_node(node)


async def test_iterate_nodes_follows_pages(moto_server: dict[str, str]) -> None:
    async with EC2NodeDriver(
        "testing", "testing", region="us-east-1", endpoint=moto_server["endpoint"], page_size=5
    ) as ec2:
        size, image = await size_and_image(ec2)
        tag = unique("paged")
        created = [await ec2.create_node(f"{tag}-{i}", size, image) for i in range(7)]
        # moto counts reservations (one per create_node) per page: 7 reservations over 2 pages.
        listed = [n.id async for n in ec2.iterate_nodes()]
        assert {n.id for n in created} <= set(listed)
        assert len(listed) == len(set(listed))
        for node in created:
            await ec2.destroy_node(node)


async def test_volumes_and_snapshots(ec2: EC2NodeDriver) -> None:
    size, image = await size_and_image(ec2)
    zone = (await ec2.list_locations())[0]
    node = await ec2.create_node(unique("vol-node"), size, image, location=zone)
    volume = await ec2.create_volume(2, unique("data"), location=zone)
    assert volume.size == 2
    assert volume.location_id == zone.id
    await ec2.attach_volume(node, volume, "/dev/sdg")
    attached = await ec2.get_volume(volume.id)
    assert attached.state is VolumeState.INUSE
    assert attached.extra["instance_id"] == node.id
    await ec2.detach_volume(volume)
    assert (await ec2.get_volume(volume.id)).state is VolumeState.AVAILABLE
    snapshot = await ec2.create_volume_snapshot(volume, "nightly")
    assert snapshot.volume_id == volume.id
    assert [s.id for s in await ec2.list_volume_snapshots(volume)] == [snapshot.id]
    restored = await ec2.create_volume(2, unique("restored"), location=zone, snapshot=snapshot)
    assert restored.extra["snapshot_id"] == snapshot.id
    await ec2.destroy_volume_snapshot(snapshot)
    assert await ec2.list_volume_snapshots(volume) == []
    for vol in (restored, volume):
        await ec2.destroy_volume(vol)
    ids = {v.id for v in await ec2.list_volumes()}
    assert volume.id not in ids
    assert restored.id not in ids
    await ec2.destroy_node(node)


async def test_provision_200_nodes_concurrently(ec2: EC2NodeDriver) -> None:
    """Issue 8's bulk test: 200 NodeSpecs, 50 at a time, against moto EC2."""
    size, image = await size_and_image(ec2)
    tag = unique("bulk")
    specs = [NodeSpec(f"{tag}-{i:03d}", size, image) for i in range(200)]
    result = await provision(ec2, specs, concurrency=50)
    assert result.ok, result.failed[:3]
    assert len(result.succeeded) == 200
    assert len({n.id for n in result.succeeded}) == 200
    mine = await ec2.list_nodes(filters={"tag:Name": [s.name for s in specs]})
    assert len(mine) == 200
    for node in result.succeeded:
        await ec2.destroy_node(node)
