"""Portable data models shared by every driver (pydantic v2)."""

from asynccloud.models._base import CloudModel
from asynccloud.models.compute import (
    KeyPair,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
    StorageVolume,
    VolumeSnapshot,
    VolumeState,
)
from asynccloud.models.dns import Record, RecordType, Zone, ZoneType
from asynccloud.models.loadbalancer import Algorithm, BalancerState, LoadBalancer, Member
from asynccloud.models.storage import Container, Object

__all__ = [
    "Algorithm",
    "BalancerState",
    "CloudModel",
    "Container",
    "KeyPair",
    "LoadBalancer",
    "Member",
    "Node",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
    "NodeState",
    "Object",
    "Record",
    "RecordType",
    "StorageVolume",
    "VolumeSnapshot",
    "VolumeState",
    "Zone",
    "ZoneType",
]
