"""EC2 response elements to asynccloud models (namespace-free trees from :mod:`._query`).

EC2 lists are ``<xSet><item>...</item></xSet>``; tags are ``<tagSet><item><key/><value/></item>``. Each
``to_*`` function reads one ``item`` and returns an unbound model; the driver binds it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from asynccloud.drivers.aws._ec2_catalog import hourly_price
from asynccloud.drivers.aws._query import items, text
from asynccloud.models import (
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

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "NODE_STATES",
    "SNAPSHOT_STATES",
    "VOLUME_STATES",
    "tags_of",
    "to_image",
    "to_key_pair",
    "to_location",
    "to_node",
    "to_size",
    "to_snapshot",
    "to_volume",
]

#: EC2 instance states onto :class:`NodeState`. ``shutting-down`` is the way to ``terminated``: STOPPING.
NODE_STATES: Final[dict[str, NodeState]] = {
    "pending": NodeState.PENDING,
    "running": NodeState.RUNNING,
    "shutting-down": NodeState.STOPPING,
    "terminated": NodeState.TERMINATED,
    "stopping": NodeState.STOPPING,
    "stopped": NodeState.STOPPED,
}

VOLUME_STATES: Final[dict[str, VolumeState]] = {
    "creating": VolumeState.CREATING,
    "available": VolumeState.AVAILABLE,
    "in-use": VolumeState.INUSE,
    "deleting": VolumeState.DELETING,
    "deleted": VolumeState.DELETED,
    "error": VolumeState.ERROR,
}

SNAPSHOT_STATES: Final[dict[str, VolumeState]] = {
    "pending": VolumeState.CREATING,
    "completed": VolumeState.AVAILABLE,
    "error": VolumeState.ERROR,
    "recoverable": VolumeState.ERROR,
    "recovering": VolumeState.CREATING,
}


def _int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # OverflowError: a number too big for a float
        return None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(value.strip())
    return None


def tags_of(item: Element) -> dict[str, str]:
    """The ``tagSet`` of an element as a dict."""
    return {text(tag, "key") or "": text(tag, "value") or "" for tag in items(item, "tagSet")}


def _strip_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def to_node(item: Element, *, reservation_id: str | None = None) -> Node:
    """An ``instancesSet/item`` as a :class:`Node` (name from the ``Name`` tag, else the instance id)."""
    instance_id = text(item, "instanceId") or ""
    tags = tags_of(item)
    raw_state = text(item, "instanceState/name") or ""
    public = [ip for ip in (text(item, "ipAddress"),) if ip]
    private = [ip for ip in (text(item, "privateIpAddress"),) if ip]
    for nic in items(item, "networkInterfaceSet"):
        for addr in items(nic, "privateIpAddressesSet"):
            ip = text(addr, "privateIpAddress")
            if ip and ip not in private:
                private.append(ip)
            pub = text(addr, "association/publicIp")
            if pub and pub not in public:
                public.append(pub)
        for ipv6 in items(nic, "ipv6AddressesSet"):
            address = text(ipv6, "ipv6Address")
            if address and address not in public:
                public.append(address)
    extra = _strip_empty(
        {
            "state": raw_state,
            "instance_type": text(item, "instanceType"),
            "key_name": text(item, "keyName"),
            "availability_zone": text(item, "placement/availabilityZone"),
            "subnet_id": text(item, "subnetId"),
            "vpc_id": text(item, "vpcId"),
            "private_dns": text(item, "privateDnsName"),
            "public_dns": text(item, "dnsName"),
            "architecture": text(item, "architecture"),
            "client_token": text(item, "clientToken"),
            "reservation_id": reservation_id,
            "state_reason": text(item, "stateReason/message"),
            "security_groups": [
                {"id": text(g, "groupId"), "name": text(g, "groupName")} for g in items(item, "groupSet")
            ],
            "tags": tags,
        }
    )
    return Node(
        id=instance_id,
        name=tags.get("Name") or instance_id,
        state=NODE_STATES.get(raw_state, NodeState.UNKNOWN),
        public_ips=public,
        private_ips=private,
        size_id=text(item, "instanceType"),
        image_id=text(item, "imageId"),
        location_id=text(item, "placement/availabilityZone"),
        created_at=_time(text(item, "launchTime")),
        extra=extra,
    )


def to_size(item: Element, region: str) -> NodeSize:
    """A ``DescribeInstanceTypes`` ``instanceTypeSet/item`` as a :class:`NodeSize` (RAM in MiB)."""
    name = text(item, "instanceType") or ""
    vcpus = _int(text(item, "vCpuInfo/defaultVCpus"))
    extra = _strip_empty(
        {
            "network_performance": text(item, "networkInfo/networkPerformance"),
            "current_generation": text(item, "currentGeneration") == "true" or None,
            "architectures": [t.text or "" for t in items(item, "processorInfo/supportedArchitectures")],
            "ebs_only": text(item, "instanceStorageSupported") == "false" or None,
        }
    )
    return NodeSize(
        id=name,
        name=name,
        ram=_int(text(item, "memoryInfo/sizeInMiB")) or 0,
        disk=_int(text(item, "instanceStorageInfo/totalSizeInGB")),
        vcpus=float(vcpus) if vcpus is not None else None,
        price=hourly_price(region, name),
        extra=extra,
    )


def to_image(item: Element) -> NodeImage:
    """An ``imagesSet/item`` as a :class:`NodeImage`."""
    extra = _strip_empty(
        {
            "state": text(item, "imageState"),
            "owner_id": text(item, "imageOwnerId"),
            "owner_alias": text(item, "imageOwnerAlias"),
            "description": text(item, "description"),
            "architecture": text(item, "architecture"),
            "platform": text(item, "platformDetails") or text(item, "platform"),
            "root_device_type": text(item, "rootDeviceType"),
            "virtualization_type": text(item, "virtualizationType"),
            "public": text(item, "isPublic") == "true",
            "created_at": text(item, "creationDate"),
            "tags": tags_of(item),
        }
    )
    return NodeImage(id=text(item, "imageId") or "", name=text(item, "name"), extra=extra)


def to_location(item: Element) -> NodeLocation:
    """An ``availabilityZoneInfo/item`` as a :class:`NodeLocation` (id and name are the zone name)."""
    zone = text(item, "zoneName") or ""
    extra = _strip_empty(
        {
            "zone_id": text(item, "zoneId"),
            "region": text(item, "regionName"),
            "state": text(item, "zoneState"),
        }
    )
    return NodeLocation(id=zone, name=zone, extra=extra)


def to_key_pair(item: Element) -> KeyPair:
    """A ``keySet/item`` (or a CreateKeyPair/ImportKeyPair answer) as a :class:`KeyPair`.

    The private key (``keyMaterial``, CreateKeyPair only) goes into the ``SecretStr`` field.
    """
    material = text(item, "keyMaterial")
    extra = _strip_empty(
        {"key_pair_id": text(item, "keyPairId"), "key_type": text(item, "keyType"), "tags": tags_of(item)}
    )
    return KeyPair(
        name=text(item, "keyName") or "",
        fingerprint=text(item, "keyFingerprint"),
        public_key=(text(item, "publicKey") or None),
        private_key=material or None,  # pydantic turns str into SecretStr
        extra=extra,
    )


def to_volume(item: Element) -> StorageVolume:
    """A ``volumeSet/item`` (or the CreateVolume answer) as a :class:`StorageVolume` (name: ``Name`` tag)."""
    tags = tags_of(item)
    attachments = [
        _strip_empty(
            {"instance_id": text(a, "instanceId"), "device": text(a, "device"), "status": text(a, "status")}
        )
        for a in items(item, "attachmentSet")
    ]
    raw_state = text(item, "status") or ""
    extra = _strip_empty(
        {
            "state": raw_state,
            "volume_type": text(item, "volumeType"),
            "snapshot_id": text(item, "snapshotId"),
            "iops": _int(text(item, "iops")),
            "encrypted": text(item, "encrypted") == "true" or None,
            "created_at": text(item, "createTime"),
            "attachments": attachments,
            "instance_id": attachments[0].get("instance_id") if attachments else None,
            "device": attachments[0].get("device") if attachments else None,
            "tags": tags,
        }
    )
    return StorageVolume(
        id=text(item, "volumeId") or "",
        name=tags.get("Name"),
        size=_int(text(item, "size")) or 0,
        state=VOLUME_STATES.get(raw_state, VolumeState.UNKNOWN),
        location_id=text(item, "availabilityZone"),
        extra=extra,
    )


def to_snapshot(item: Element) -> VolumeSnapshot:
    """A ``snapshotSet/item`` (or the CreateSnapshot answer) as a :class:`VolumeSnapshot`."""
    tags = tags_of(item)
    raw_state = text(item, "status") or ""
    extra = _strip_empty(
        {
            "state": raw_state,
            "description": text(item, "description"),
            "progress": text(item, "progress"),
            "owner_id": text(item, "ownerId"),
            "tags": tags,
        }
    )
    return VolumeSnapshot(
        id=text(item, "snapshotId") or "",
        name=tags.get("Name") or text(item, "description") or None,
        size=_int(text(item, "volumeSize")),
        state=SNAPSHOT_STATES.get(raw_state, VolumeState.UNKNOWN),
        volume_id=text(item, "volumeId"),
        created_at=_time(text(item, "startTime")),
        extra=extra,
    )
