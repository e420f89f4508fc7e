"""Nova, Glance and Cinder JSON mapped onto the portable models (pure functions, no I/O).

The shapes follow the OpenStack Compute API v2.1 (servers, flavors, key pairs, availability zones, the
``/images`` proxy that Rackspace's next-generation Cloud Servers still serve), Image API v2 and Block
Storage API v3 references. Fields are read with the accessors of :mod:`asynccloud._json`: a field of the wrong
type raises ``MalformedJson`` naming it (the driver verb reports it as a ``ProviderError``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from asynccloud._json import identifier, objects, optional, require
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

__all__ = [
    "NODE_STATES",
    "VOLUME_STATES",
    "node_state",
    "parse_time",
    "relink",
    "split_addresses",
    "to_glance_image",
    "to_key_pair",
    "to_location",
    "to_node",
    "to_nova_image",
    "to_size",
    "to_snapshot",
    "to_volume",
    "volume_state",
]

#: Nova server ``status`` values onto :class:`NodeState`.
NODE_STATES: Mapping[str, NodeState] = {
    "ACTIVE": NodeState.RUNNING,
    "BUILD": NodeState.PENDING,
    "REBUILD": NodeState.PENDING,
    "PASSWORD": NodeState.PENDING,
    "SUSPENDED": NodeState.SUSPENDED,
    "PAUSED": NodeState.PAUSED,
    "RESIZE": NodeState.RECONFIGURING,
    # The resized server runs and waits for the user to confirm or revert.
    "VERIFY_RESIZE": NodeState.RUNNING,
    "REVERT_RESIZE": NodeState.RECONFIGURING,
    "RESCUE": NodeState.RECONFIGURING,
    "SHUTOFF": NodeState.STOPPED,
    "STOPPED": NodeState.STOPPED,
    "SHELVED": NodeState.STOPPED,
    "SHELVED_OFFLOADED": NodeState.STOPPED,
    "ERROR": NodeState.ERROR,
    "DELETED": NodeState.TERMINATED,
    "SOFT_DELETED": NodeState.TERMINATED,
    "HARD_REBOOT": NodeState.REBOOTING,
    "REBOOT": NodeState.REBOOTING,
    "MIGRATING": NodeState.MIGRATING,
    "UNKNOWN": NodeState.UNKNOWN,
}

#: ``OS-EXT-STS:task_state`` values that say more than the status (a power change in progress).
_TASK_STATES: Mapping[str, NodeState] = {
    "powering-off": NodeState.STOPPING,
    "powering-on": NodeState.STARTING,
    "rebooting": NodeState.REBOOTING,
    "rebooting_hard": NodeState.REBOOTING,
}

#: Cinder volume and snapshot ``status`` values onto :class:`VolumeState`.
VOLUME_STATES: Mapping[str, VolumeState] = {
    "available": VolumeState.AVAILABLE,
    "creating": VolumeState.CREATING,
    "downloading": VolumeState.CREATING,
    "restoring-backup": VolumeState.CREATING,
    "in-use": VolumeState.INUSE,
    "reserved": VolumeState.ATTACHING,
    "attaching": VolumeState.ATTACHING,
    "detaching": VolumeState.DETACHING,
    "deleting": VolumeState.DELETING,
    "deleted": VolumeState.DELETED,
    "backing-up": VolumeState.BACKUP,
    "error": VolumeState.ERROR,
    "error_deleting": VolumeState.ERROR,
    "error_backing-up": VolumeState.ERROR,
    "error_restoring": VolumeState.ERROR,
    "error_extending": VolumeState.ERROR,
    "error_managing": VolumeState.ERROR,
}


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as the APIs write it (``2026-11-24T10:00:00Z``, with or without fraction/offset)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_public(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_global
    except ValueError:
        return False


def split_addresses(server: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Split a server's addresses into ``(public, private)``.

    A floating IP (``OS-EXT-IPS:type: floating``) is public. A fixed IP, or one without a type (Rackspace,
    older clouds), is public when it is globally routable and private otherwise (RFC 1918, CGNAT, ULA,
    link-local...). ``accessIPv4``/``accessIPv6`` count as public. Order is kept, duplicates dropped.
    """
    public: list[str] = []
    private: list[str] = []
    addresses = optional(server, "addresses", dict, "server") or {}
    for network in addresses:
        for entry in objects(addresses, network, "server.addresses"):
            address = optional(entry, "addr", str, f"server.addresses.{network}")
            if not address:
                continue
            kind = entry.get("OS-EXT-IPS:type")
            target = public if kind == "floating" or _is_public(address) else private
            if address not in target:
                target.append(address)
    for key in ("accessIPv4", "accessIPv6"):
        address = optional(server, key, str, "server")
        if address and address not in public and address not in private:
            public.append(address)
    return public, private


def node_state(server: Mapping[str, Any]) -> NodeState:
    """The portable state of a server: its ``status``, refined by a power change in progress."""
    state = NODE_STATES.get((optional(server, "status", str, "server") or "").upper(), NodeState.UNKNOWN)
    task = server.get("OS-EXT-STS:task_state")
    if state in (NodeState.RUNNING, NodeState.STOPPED) and isinstance(task, str) and task in _TASK_STATES:
        return _TASK_STATES[task]
    return state


def _ref_id(value: Any) -> str | None:
    """The id of a ``{"id": ..., "links": [...]}`` reference (``""`` for a server booted from a volume)."""
    if isinstance(value, Mapping):
        ref = value.get("id")
        return str(ref) if ref not in (None, "") else None
    return None


def to_node(server: Mapping[str, Any]) -> Node:
    """A Nova server (``GET /servers/detail`` or ``/servers/{id}``) as a :class:`Node`."""
    public, private = split_addresses(server)
    extra_keys = {
        "status": "status",
        "progress": "progress",
        "OS-EXT-STS:task_state": "task_state",
        "OS-EXT-STS:vm_state": "vm_state",
        "OS-EXT-STS:power_state": "power_state",
        "key_name": "key_name",
        "metadata": "metadata",
        "tenant_id": "tenant_id",
        "user_id": "user_id",
        "hostId": "host_id",
        "updated": "updated",
        "accessIPv4": "access_ipv4",
        "accessIPv6": "access_ipv6",
        "flavor": "flavor",
        "image": "image",
        "addresses": "addresses",
        "security_groups": "security_groups",
        "config_drive": "config_drive",
        "OS-DCF:diskConfig": "disk_config",
        "os-extended-volumes:volumes_attached": "volumes_attached",
        "locked": "locked",
        "description": "description",
        "tags": "tags",
    }
    extra = {name: server[key] for key, name in extra_keys.items() if key in server}
    return Node(
        id=identifier(server, "id", "server"),
        name=optional(server, "name", str, "server") or "",
        state=node_state(server),
        public_ips=public,
        private_ips=private,
        size_id=_ref_id(server.get("flavor")),
        image_id=_ref_id(server.get("image")),
        location_id=optional(server, "OS-EXT-AZ:availability_zone", str, "server") or None,
        created_at=parse_time(optional(server, "created", str, "server")),
        extra=extra,
    )


def to_size(flavor: Mapping[str, Any]) -> NodeSize:
    """A Nova flavor (``GET /flavors/detail``): ``ram`` in MiB, ``disk`` in GB."""
    extra_keys = {
        "OS-FLV-EXT-DATA:ephemeral": "ephemeral",
        "swap": "swap",
        "rxtx_factor": "rxtx_factor",
        "os-flavor-access:is_public": "is_public",
        "OS-FLV-DISABLED:disabled": "disabled",
        "extra_specs": "extra_specs",
        "OS-FLV-WITH-EXT-SPECS:extra_specs": "extra_specs",
        "description": "description",
    }
    extra = {name: flavor[key] for key, name in extra_keys.items() if key in flavor}
    flavor_id = identifier(flavor, "id", "flavor")
    vcpus = optional(flavor, "vcpus", float, "flavor")
    return NodeSize(
        id=flavor_id,
        name=optional(flavor, "name", str, "flavor") or flavor_id,
        ram=optional(flavor, "ram", int, "flavor") or 0,
        disk=optional(flavor, "disk", int, "flavor"),
        vcpus=float(vcpus) if vcpus is not None else None,
        extra=extra,
    )


_GLANCE_EXTRA = (
    "status", "visibility", "size", "virtual_size", "min_disk", "min_ram", "disk_format",
    "container_format", "created_at", "updated_at", "owner", "protected", "tags", "checksum",
    "os_distro", "os_version", "architecture", "os_hidden",
)  # fmt: skip


def to_glance_image(image: Mapping[str, Any]) -> NodeImage:
    """A Glance v2 image (``GET /v2/images`` or ``/v2/images/{id}``)."""
    return NodeImage(
        id=identifier(image, "id", "image"),
        name=optional(image, "name", str, "image"),
        extra={key: image[key] for key in _GLANCE_EXTRA if key in image},
    )


def to_nova_image(image: Mapping[str, Any]) -> NodeImage:
    """An image from Nova's ``/images/detail`` proxy (Rackspace Cloud Servers), with Glance-style extra."""
    extra_keys = {
        "status": "status",
        "minDisk": "min_disk",
        "minRam": "min_ram",
        "OS-EXT-IMG-SIZE:size": "size",
        "progress": "progress",
        "created": "created_at",
        "updated": "updated_at",
        "metadata": "metadata",
        "OS-DCF:diskConfig": "disk_config",
    }
    extra = {name: image[key] for key, name in extra_keys.items() if key in image}
    server = optional(image, "server", dict, "image")
    if server is not None:
        extra["server_id"] = server.get("id")
    return NodeImage(
        id=identifier(image, "id", "image"), name=optional(image, "name", str, "image"), extra=extra
    )


def to_location(zone: Mapping[str, Any]) -> NodeLocation:
    """A Nova availability zone (``GET /os-availability-zone``)."""
    name = optional(zone, "zoneName", str, "zone") or ""
    state = optional(zone, "zoneState", dict, "zone")
    available = bool(state.get("available")) if state is not None else None
    return NodeLocation(id=name, name=name, extra={"available": available, "hosts": zone.get("hosts")})


def to_key_pair(data: Mapping[str, Any]) -> KeyPair:
    """A Nova key pair; ``private_key`` (only in a create answer) becomes a ``SecretStr``."""
    private = optional(data, "private_key", str, "keypair")
    extra_keys = ("type", "user_id", "created_at", "id", "deleted")
    return KeyPair(
        name=require(data, "name", str, "keypair"),
        fingerprint=optional(data, "fingerprint", str, "keypair"),
        public_key=optional(data, "public_key", str, "keypair"),
        private_key=SecretStr(private) if private else None,
        extra={key: data[key] for key in extra_keys if key in data},
    )


def volume_state(status: Any) -> VolumeState:
    """The portable state of a Cinder volume or snapshot status."""
    return VOLUME_STATES.get(str(status or "").lower(), VolumeState.UNKNOWN)


def to_volume(volume: Mapping[str, Any]) -> StorageVolume:
    """A Cinder v3 volume (``GET /volumes/detail``, ``/volumes/{id}``, a create answer)."""
    extra_keys = (
        "status", "attachments", "bootable", "volume_type", "description", "metadata", "snapshot_id",
        "source_volid", "encrypted", "multiattach", "created_at", "updated_at", "user_id",
    )  # fmt: skip
    return StorageVolume(
        id=identifier(volume, "id", "volume"),
        name=optional(volume, "name", str, "volume") or optional(volume, "display_name", str, "volume"),
        size=optional(volume, "size", int, "volume") or 0,
        state=volume_state(optional(volume, "status", str, "volume")),
        location_id=optional(volume, "availability_zone", str, "volume") or None,
        extra={key: volume[key] for key in extra_keys if key in volume},
    )


def to_snapshot(snapshot: Mapping[str, Any]) -> VolumeSnapshot:
    """A Cinder v3 snapshot (``GET /snapshots/detail``, a create answer)."""
    extra_keys = ("status", "description", "metadata", "progress", "updated_at")
    return VolumeSnapshot(
        id=identifier(snapshot, "id", "snapshot"),
        name=optional(snapshot, "name", str, "snapshot")
        or optional(snapshot, "display_name", str, "snapshot"),
        size=optional(snapshot, "size", int, "snapshot"),
        state=volume_state(optional(snapshot, "status", str, "snapshot")),
        volume_id=optional(snapshot, "volume_id", str, "snapshot"),
        created_at=parse_time(optional(snapshot, "created_at", str, "snapshot")),
        extra={key: snapshot[key] for key in extra_keys if key in snapshot},
    )


def relink(first: str, href: str | None) -> str | None:
    """The URL of the next page: ``first`` with the query of the provider's ``next`` link.

    Nova and Glance build their links from their own idea of their address (often an internal host or
    plain http behind a TLS proxy; Glance's are paths only), so only the link's query (``marker``,
    ``limit``) is trusted and the endpoint stays the one from the catalog.
    """
    if not href:
        return None
    query = httpx.URL(href).query
    if not query:
        return None
    return str(httpx.URL(first).copy_with(query=query))
