"""Compute models: nodes, their sizes, images and locations, key pairs, volumes and snapshots."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field, SecretStr

from asynccloud.models._base import CloudModel

if TYPE_CHECKING:
    from asynccloud.drivers.base import ComputeDriver

__all__ = [
    "KeyPair",
    "Node",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
    "NodeState",
    "StorageVolume",
    "VolumeSnapshot",
    "VolumeState",
]


class NodeState(StrEnum):
    """Portable life-cycle state of a node; drivers map every provider state onto one of these."""

    RUNNING = "running"
    STARTING = "starting"
    REBOOTING = "rebooting"
    TERMINATED = "terminated"
    PENDING = "pending"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    PAUSED = "paused"
    ERROR = "error"
    MIGRATING = "migrating"
    RECONFIGURING = "reconfiguring"
    UNKNOWN = "unknown"


class VolumeState(StrEnum):
    """Portable state of a block-storage volume or snapshot."""

    AVAILABLE = "available"
    CREATING = "creating"
    INUSE = "inuse"
    ATTACHING = "attaching"
    DETACHING = "detaching"
    DELETING = "deleting"
    DELETED = "deleted"
    BACKUP = "backup"
    ERROR = "error"
    UNKNOWN = "unknown"


class _ComputeModel(CloudModel):
    def _compute(self) -> ComputeDriver:
        return cast("ComputeDriver", self._require_driver())


class NodeSize(_ComputeModel):
    """A hardware configuration a node can be created with (instance type, flavor, plan)."""

    id: str
    name: str
    ram: int = Field(description="Memory in MiB.")
    disk: int | None = Field(default=None, description="Root disk in GB, when the size fixes one.")
    vcpus: float | None = None
    bandwidth: int | None = Field(default=None, description="Transfer allowance in GB, when known.")
    price: float | None = Field(default=None, description="Hourly price in USD, when known.")
    extra: dict[str, Any] = Field(default_factory=dict)


class NodeImage(_ComputeModel):
    """An operating-system image (AMI, Glance image, snapshot) a node boots from."""

    id: str
    name: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class NodeLocation(_ComputeModel):
    """A place nodes run in: availability zone, data centre or region."""

    id: str
    name: str
    country: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Node(_ComputeModel):
    """A virtual server."""

    id: str
    name: str
    state: NodeState = NodeState.UNKNOWN
    public_ips: list[str] = Field(default_factory=list)
    private_ips: list[str] = Field(default_factory=list)
    size_id: str | None = None
    image_id: str | None = None
    location_id: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    async def reboot(self) -> None:
        """Reboot this node (``driver.reboot_node``)."""
        await self._compute().reboot_node(self)

    async def start(self) -> None:
        """Start this stopped node (``driver.start_node``)."""
        await self._compute().start_node(self)

    async def stop(self) -> None:
        """Stop this node without destroying it (``driver.stop_node``)."""
        await self._compute().stop_node(self)

    async def destroy(self) -> None:
        """Destroy this node (``driver.destroy_node``)."""
        await self._compute().destroy_node(self)

    async def refresh(self) -> Node:
        """Fetch this node's current state; returns a new model (``driver.get_node``)."""
        return await self._compute().get_node(self.id)


class KeyPair(_ComputeModel):
    """An SSH key pair known to the provider. ``private_key`` is only set right after creation."""

    name: str
    fingerprint: str | None = None
    public_key: str | None = None
    private_key: SecretStr | None = Field(default=None, exclude=True)
    extra: dict[str, Any] = Field(default_factory=dict)

    def __getstate__(self) -> dict[Any, Any]:
        # Private key material is a credential: it never travels in a pickle (nor in model_dump/JSON).
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "private_key": None}
        return state

    async def delete(self) -> None:
        """Delete this key pair (``driver.delete_key_pair``)."""
        await self._compute().delete_key_pair(self)


class StorageVolume(_ComputeModel):
    """A block-storage volume."""

    id: str
    name: str | None = None
    size: int = Field(description="Size in GiB.")
    state: VolumeState = VolumeState.UNKNOWN
    location_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    async def attach(self, node: Node, device: str | None = None) -> None:
        """Attach this volume to ``node`` (``driver.attach_volume``)."""
        await self._compute().attach_volume(node, self, device=device)

    async def detach(self) -> None:
        """Detach this volume from its node (``driver.detach_volume``)."""
        await self._compute().detach_volume(self)

    async def destroy(self) -> None:
        """Destroy this volume (``driver.destroy_volume``)."""
        await self._compute().destroy_volume(self)

    async def snapshot(self, name: str | None = None) -> VolumeSnapshot:
        """Snapshot this volume (``driver.create_volume_snapshot``)."""
        return await self._compute().create_volume_snapshot(self, name=name)


class VolumeSnapshot(_ComputeModel):
    """A point-in-time copy of a volume."""

    id: str
    name: str | None = None
    size: int | None = Field(default=None, description="Size in GiB.")
    state: VolumeState = VolumeState.UNKNOWN
    volume_id: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    async def destroy(self) -> None:
        """Destroy this snapshot (``driver.destroy_volume_snapshot``)."""
        await self._compute().destroy_volume_snapshot(self)
