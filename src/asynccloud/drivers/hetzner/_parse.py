"""Hetzner Cloud API objects onto the portable models (servers, server types, images, locations, SSH keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from asynccloud._json import MalformedJson, objects, optional, require
from asynccloud.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState

__all__ = ["NODE_STATES", "to_image", "to_key_pair", "to_location", "to_node", "to_size"]

#: Every documented server status.
NODE_STATES: Final = {
    "initializing": NodeState.PENDING,
    "starting": NodeState.STARTING,
    "running": NodeState.RUNNING,
    "stopping": NodeState.STOPPING,
    "off": NodeState.STOPPED,
    "deleting": NodeState.TERMINATED,
    "migrating": NodeState.MIGRATING,
    "rebuilding": NodeState.REBOOTING,
    "unknown": NodeState.UNKNOWN,
}


def _id(data: dict[str, Any], where: str) -> str:
    value = data.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise MalformedJson(f"{where}.id is missing or not an id")
    return str(value)


def _created(data: dict[str, Any], where: str) -> datetime | None:
    text = optional(data, "created", str, where)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise MalformedJson(f"{where}.created is not an ISO 8601 time") from None


def to_node(data: dict[str, Any]) -> Node:
    """A ``server`` object."""
    status = require(data, "status", str, "server")
    public = optional(data, "public_net", dict, "server") or {}
    ipv4 = (optional(public, "ipv4", dict, "server.public_net") or {}).get("ip")
    # Hetzner gives the server an IPv6 *network* (2001:db8::/64), not an address: kept in extra.
    ipv6 = (optional(public, "ipv6", dict, "server.public_net") or {}).get("ip")
    public_ips = [ipv4] if isinstance(ipv4, str) and ipv4 else []
    networks = objects(data, "private_net", "server") if data.get("private_net") is not None else []
    private_ips = [net["ip"] for net in networks if isinstance(net.get("ip"), str)]
    server_type = optional(data, "server_type", dict, "server") or {}
    image = optional(data, "image", dict, "server") or {}
    datacenter = optional(data, "datacenter", dict, "server") or {}
    location = optional(datacenter, "location", dict, "server.datacenter") or {}
    labels = optional(data, "labels", dict, "server") or {}
    return Node(
        id=_id(data, "server"),
        name=require(data, "name", str, "server"),
        state=NODE_STATES.get(status, NodeState.UNKNOWN),
        public_ips=public_ips,
        private_ips=private_ips,
        size_id=server_type.get("name") if isinstance(server_type.get("name"), str) else None,
        image_id=str(image["id"]) if isinstance(image.get("id"), int) else None,
        location_id=location.get("name") if isinstance(location.get("name"), str) else None,
        created_at=_created(data, "server"),
        extra={
            "status": status,
            "datacenter": datacenter.get("name"),
            "labels": dict(labels),
            "image_name": image.get("name"),
            "locked": bool(data.get("locked")),
            "ipv6_network": ipv6 if isinstance(ipv6, str) else None,
        },
    )


def _hourly_price(server_type: dict[str, Any], location: str | None) -> float | None:
    for price in server_type.get("prices") or []:
        if not isinstance(price, dict) or (location is not None and price.get("location") != location):
            continue
        hourly = price.get("price_hourly")
        gross = hourly.get("gross") if isinstance(hourly, dict) else None
        try:
            return float(gross) if isinstance(gross, str | int | float) else None
        except ValueError:
            return None
    return None


def to_size(data: dict[str, Any], location: str | None = None) -> NodeSize:
    """A ``server_type`` object (memory in GB → ``ram`` in MiB).

    Hetzner prices in EUR, so ``price`` (USD) stays ``None``; ``extra["price_hourly_eur"]`` is the gross
    hourly price in ``location`` (or the first one listed).
    """
    memory = require(data, "memory", float, "server_type")
    return NodeSize(
        id=require(data, "name", str, "server_type"),
        name=require(data, "name", str, "server_type"),
        ram=int(memory * 1024),
        disk=int(require(data, "disk", float, "server_type")),
        vcpus=require(data, "cores", int, "server_type"),
        extra={
            "price_hourly_eur": _hourly_price(data, location),
            "id": _id(data, "server_type"),
            "description": data.get("description"),
            "cpu_type": data.get("cpu_type"),
            "architecture": data.get("architecture"),
            "deprecated": bool(data.get("deprecated")),
        },
    )


def to_image(data: dict[str, Any]) -> NodeImage:
    """An ``image`` object (``id`` is the numeric id as a string; ``name`` e.g. ``ubuntu-24.04``)."""
    return NodeImage(
        id=_id(data, "image"),
        name=optional(data, "name", str, "image") or optional(data, "description", str, "image"),
        extra={
            "type": data.get("type"),
            "description": data.get("description"),
            "os_flavor": data.get("os_flavor"),
            "os_version": data.get("os_version"),
            "architecture": data.get("architecture"),
            "status": data.get("status"),
        },
    )


def to_location(data: dict[str, Any]) -> NodeLocation:
    """A ``location`` object (``id`` is its name, e.g. ``fsn1``)."""
    return NodeLocation(
        id=require(data, "name", str, "location"),
        name=optional(data, "description", str, "location") or require(data, "name", str, "location"),
        country=optional(data, "country", str, "location"),
        extra={
            "city": data.get("city"),
            "network_zone": data.get("network_zone"),
            "numeric_id": data.get("id"),
        },
    )


def to_key_pair(data: dict[str, Any]) -> KeyPair:
    """An ``ssh_key`` object."""
    return KeyPair(
        name=require(data, "name", str, "ssh_key"),
        fingerprint=optional(data, "fingerprint", str, "ssh_key"),
        public_key=optional(data, "public_key", str, "ssh_key"),
        extra={"id": _id(data, "ssh_key"), "labels": dict(optional(data, "labels", dict, "ssh_key") or {})},
    )
