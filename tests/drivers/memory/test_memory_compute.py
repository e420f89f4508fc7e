"""The in-memory compute driver: the portable verbs, simulated latency, boot time and injected faults."""

from __future__ import annotations

import base64
import hashlib
import pickle

import anyio
import pytest

from asynccloud import (
    Capability,
    ConfigurationError,
    DriverType,
    ImageNotFoundError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    OperationFailedError,
    Provider,
    QuotaExceededError,
    get_driver,
)
from asynccloud.drivers.base import ComputeDriver
from asynccloud.drivers.memory import MemoryComputeDriver
from asynccloud.models import NodeImage, NodeState

pytestmark = pytest.mark.anyio


async def test_registered_and_a_compute_driver() -> None:
    cls = get_driver(DriverType.COMPUTE, Provider.MEMORY)
    assert cls is MemoryComputeDriver
    async with cls("acct") as driver:
        assert isinstance(driver, ComputeDriver)
        assert driver.supports(Capability.NODE_REBOOT)
        assert not driver.supports(Capability.VOLUMES)
        assert repr(driver) == "<MemoryComputeDriver account='acct' nodes=0>"
        with pytest.raises(TypeError):
            pickle.dumps(driver)


async def test_node_life_cycle() -> None:
    async with MemoryComputeDriver(boot_time=0.1) as driver:
        sizes, images, locations = (
            await driver.list_sizes(),
            await driver.list_images(),
            await driver.list_locations(),
        )
        assert [s.id for s in sizes] == ["small", "medium", "large"]
        assert [i.id for i in images] == ["debian-12", "ubuntu-24.04"]
        assert await driver.get_image("ubuntu-24.04") == images[1]
        node = await driver.create_node("web1", sizes[0], images[0], key_pair="me", user_data="secret: 1")
        assert node.state is NodeState.PENDING
        assert node.location_id == locations[0].id
        assert node.extra == {"key_pair": "me", "user_data_size": 9}  # user data itself is not kept
        other = await driver.create_node("web2", sizes[1], images[1])
        assert node.public_ips != other.public_ips
        assert node.public_ips[0].startswith("192.0.2.")

        ((running, ips),) = await driver.wait_until_running([node], wait_period=0.02, timeout=5)
        assert running.state is NodeState.RUNNING
        assert ips == node.public_ips

        await running.stop()
        assert (await running.refresh()).state is NodeState.STOPPED
        await running.start()
        assert (await driver.get_node(node.id)).state is NodeState.PENDING
        await running.reboot()
        await node.destroy()
        assert [n.name for n in await driver.list_nodes()] == ["web2"]
        with pytest.raises(NodeNotFoundError):
            await driver.destroy_node(node)
        with pytest.raises(NodeNotFoundError):
            await driver.get_node(node.id)
        with pytest.raises(ImageNotFoundError):
            await driver.create_node("x", sizes[0], NodeImage(id="windows"))
        with pytest.raises(ImageNotFoundError):
            await driver.get_image("windows")


async def test_fixed_address_and_many_nodes() -> None:
    async with MemoryComputeDriver(address="127.0.0.1") as local, MemoryComputeDriver() as spread:
        size, image = (await local.list_sizes())[0], (await local.list_images())[0]
        assert (await local.create_node("a", size, image)).public_ips == ["127.0.0.1"]
        ips = {(await spread.create_node(f"n{i}", size, image)).public_ips[0] for i in range(300)}
        assert len(ips) == 300


async def test_latency_and_faults() -> None:
    def fault(operation: str, name: str) -> None:
        if (operation, name) == ("create_node", "full"):
            raise QuotaExceededError("quota", provider="memory")
        if (operation, name) == ("boot", "broken"):
            raise RuntimeError("does not boot")

    async with MemoryComputeDriver(latency=0.05, fault=fault) as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        started = anyio.current_time()
        await driver.create_node("ok", size, image)
        assert anyio.current_time() - started >= 0.045
        with pytest.raises(QuotaExceededError):
            await driver.create_node("full", size, image)
        broken = await driver.create_node("broken", size, image)
        assert broken.state is NodeState.ERROR
        with pytest.raises(OperationFailedError, match="broken"):
            await driver.wait_until_running([broken], wait_period=0.01, timeout=5)
        assert sorted(n.name for n in await driver.list_nodes()) == ["broken", "ok"]


async def test_a_call_cancelled_in_flight_may_have_taken_effect() -> None:
    async with MemoryComputeDriver(latency=0.2) as driver:
        size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]
        with anyio.move_on_after(0.15):
            await driver.create_node("ghost", size, image)
        assert [n.name for n in await driver.list_nodes()] == ["ghost"]


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host"
# ssh-keygen -lf on that key prints this SHA256 fingerprint.
ED25519_FINGERPRINT = "SHA256:{}".format(
    base64.b64encode(hashlib.sha256(base64.b64decode(ED25519.split()[1])).digest()).decode().rstrip("=")
)


async def test_key_pairs() -> None:
    async with MemoryComputeDriver() as driver:
        pair = await driver.import_key_pair_from_string("me", ED25519 + "\n")
        assert pair.public_key == ED25519
        assert pair.fingerprint == ED25519_FINGERPRINT
        with pytest.raises(KeyPairAlreadyExistsError):
            await driver.import_key_pair_from_string("me", ED25519)
        assert [p.name for p in await driver.list_key_pairs()] == ["me"]
        assert (await driver.get_key_pair("me")).public_key == pair.public_key
        await pair.delete()
        with pytest.raises(KeyPairNotFoundError):
            await driver.get_key_pair("me")


@pytest.mark.parametrize(
    "material",
    [
        "not a key",
        "ssh-ed25519",
        "ssh-ed25519 AAAA me@host",  # base64, but not an SSH key blob
        "ssh-ed25519 !!!notbase64",
        "ssh-rsa " + ED25519.split()[1],  # the blob says ssh-ed25519
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ],
)
async def test_malformed_public_keys_are_refused_like_a_provider_would(material: str) -> None:
    async with MemoryComputeDriver() as driver:
        with pytest.raises(InvalidRequestError, match="public key"):
            await driver.import_key_pair_from_string("me", material)
        assert await driver.list_key_pairs() == []


def test_validation() -> None:
    with pytest.raises(ConfigurationError):
        MemoryComputeDriver(latency=-1)
    with pytest.raises(ConfigurationError):
        MemoryComputeDriver(boot_time=float("nan"))
