"""Argument checks every driver of a kind gets, run before the verb does anything (no request is sent).

The per-kind bases (:mod:`asynccloud.drivers._kinds`) wrap their public verbs, and the same verbs of every
subclass, with the check registered here under the verb's name. A check takes the verb's arguments (without
``self``) and raises :class:`~asynccloud.errors.ConfigurationError` (or :class:`InvalidNameError`) naming the
bad argument: a ``str`` where a model is expected, a negative TTL or size, an unknown record type, record
data that cannot be right for its type, a non-int byte range. Provider rules (bucket name syntax, supported
record types, ...) stay in the drivers; these are the rules every provider shares.

An ``iterate_*`` verb is an async generator function; its wrapper checks when it is called, before the
generator is created, so a bad call fails at once rather than on the first ``async for``.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import os
import re
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any, Final

from asynccloud.errors import ConfigurationError, InvalidNameError
from asynccloud.models import (
    Algorithm,
    Container,
    KeyPair,
    LoadBalancer,
    Member,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    Object,
    Record,
    RecordType,
    StorageVolume,
    VolumeSnapshot,
    Zone,
)

__all__ = ["COMPUTE_CHECKS", "DNS_CHECKS", "LB_CHECKS", "STORAGE_CHECKS", "guard_verbs"]

Check = Callable[..., None]

_MAX_DOMAIN: Final = 253
_MAX_LABEL: Final = 63
_MAX_NAME: Final = 255
_DOMAIN_CHARS: Final = re.compile(r"^[A-Za-z0-9_*-]+$")
_MAX_TTL: Final = 2**31 - 1
_GUARDED: Final = "__asynccloud_guarded__"
_WITH_DRIVER: Final = "__asynccloud_with_driver__"


def expect(value: object, cls: type | tuple[type, ...], what: str) -> None:
    """Raise ConfigurationError unless ``value`` is an instance of ``cls``."""
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise ConfigurationError(f"{what} must be a {names}, got {type(value).__name__} {_short(value)}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _optional(value: object, cls: type | tuple[type, ...], what: str) -> None:
    if value is not None:
        expect(value, cls, what)


def _int(value: object, what: str, *, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{what} must be an int, got {type(value).__name__} {_short(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise ConfigurationError(f"{what} must be {bound}, got {value}")


def _ttl(ttl: object) -> None:
    if ttl is not None:
        _int(ttl, "ttl", minimum=0, maximum=_MAX_TTL)


def _positive_number(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{what} must be a positive number, got {_short(value)}")


def _identifier(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a non-empty str, got {_short(value)}")


def _name(value: object, what: str, *, maximum: int = _MAX_NAME) -> None:
    _identifier(value, what)
    assert isinstance(value, str)
    if len(value.encode("utf-8", "surrogatepass")) > maximum:
        raise ConfigurationError(f"{what} is too long: {len(value)} characters, at most {maximum} bytes")


def _domain(domain: object) -> None:
    if not isinstance(domain, str) or not domain.strip(". "):
        raise ConfigurationError(f"zone domain must be a non-empty str, got {_short(domain)}")
    text = domain.rstrip(".")
    if len(text) > _MAX_DOMAIN:
        raise ConfigurationError(f"zone domain is too long: {len(text)} characters, at most {_MAX_DOMAIN}")
    for label in text.split("."):
        if not label or len(label) > _MAX_LABEL or not _DOMAIN_CHARS.match(label):
            raise ConfigurationError(
                f"zone domain {_short(domain)} has an invalid label {_short(label)}: "
                f"1-{_MAX_LABEL} letters, digits, '-' or '_'"
            )


def _record_type(value: object) -> RecordType:
    if isinstance(value, RecordType):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(f"record type must be a RecordType or str, got {type(value).__name__}")
    try:
        return RecordType(value.upper())
    except ValueError:
        known = ", ".join(t.value for t in RecordType)
        raise ConfigurationError(f"unknown record type {value!r}; known: {known}") from None


def _record_name(name: object) -> None:
    if not isinstance(name, str):
        raise ConfigurationError(f"record name must be a str, got {type(name).__name__}")
    if len(name) > _MAX_DOMAIN:
        raise ConfigurationError(f"record name is too long: {len(name)} characters, at most {_MAX_DOMAIN}")


def _record_data(rtype: RecordType, data: object, extra: object = None) -> None:
    """``data`` may be empty when ``extra`` has ``records``; an ``alias`` record's data is a name."""
    if not isinstance(data, str):
        raise ConfigurationError(f"record data must be a str, got {type(data).__name__} {_short(data)}")
    if isinstance(extra, Mapping) and "alias" in extra:
        return  # an alias record's data names its target (a balancer's DNS name), not an address
    if not data.strip():
        if isinstance(extra, Mapping) and "records" in extra:
            return
        raise ConfigurationError("record data must not be empty")
    if rtype is RecordType.A:
        try:
            ipaddress.IPv4Address(data.strip())
        except ValueError:
            raise ConfigurationError(f"A record data must be an IPv4 address, got {_short(data)}") from None
    elif rtype is RecordType.AAAA:
        try:
            ipaddress.IPv6Address(data.strip())
        except ValueError:
            raise ConfigurationError(
                f"AAAA record data must be an IPv6 address, got {_short(data)}"
            ) from None


def _path(value: object, what: str) -> None:
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise ConfigurationError(f"{what} must be a path (str or os.PathLike), got {_short(value)}")


def _upload_source(source: object) -> None:
    if isinstance(source, bytes | bytearray | memoryview | str | os.PathLike | AsyncIterable | Iterable):
        return
    if callable(getattr(source, "read", None)):
        return
    raise ConfigurationError(
        "upload source must be bytes, a path, a file object or an (async) iterable of bytes, "
        f"got {type(source).__name__}"
    )


def _chunk_size(chunk_size: object) -> None:
    if chunk_size is not None:
        _int(chunk_size, "chunk_size", minimum=1)


def _byte_range(start_bytes: object, end_bytes: object) -> None:
    _int(start_bytes, "start_bytes", minimum=0)
    if end_bytes is not None:
        _int(end_bytes, "end_bytes", minimum=0)


# ------------------------------------------------------------------------------------------ storage


def _container(container: object, *_: object, prefix: object = None, **__: object) -> None:
    expect(container, Container, "container")
    _optional(prefix, str, "prefix")


def _object(obj: object, *_: object, **__: object) -> None:
    expect(obj, Object, "object")


def _upload_object(file_path: object, container: object, object_name: object, **kw: object) -> None:
    _path(file_path, "file_path")
    expect(container, Container, "container")


def _upload_stream(iterator: object, container: object, object_name: object, **kw: object) -> None:
    expect(container, Container, "container")
    _upload_source(iterator)


def _download_stream(obj: object, *, chunk_size: object = None, **_: object) -> None:
    expect(obj, Object, "object")
    _chunk_size(chunk_size)


def _download_range(
    obj: object, destination_path: object, start_bytes: object, end_bytes: object = None, **_: object
) -> None:
    expect(obj, Object, "object")
    _path(destination_path, "destination_path")
    _byte_range(start_bytes, end_bytes)


def _download_range_stream(
    obj: object, start_bytes: object, end_bytes: object = None, *, chunk_size: object = None, **_: object
) -> None:
    expect(obj, Object, "object")
    _byte_range(start_bytes, end_bytes)
    _chunk_size(chunk_size)


def _download(obj: object, destination_path: object, **_: object) -> None:
    expect(obj, Object, "object")
    _path(destination_path, "destination_path")


STORAGE_CHECKS: Final[Mapping[str, Check]] = {
    "delete_container": _container,
    "iterate_container_objects": _container,
    "list_container_objects": _container,
    "enable_container_cdn": _container,
    "get_container_cdn_url": _container,
    "upload_object": _upload_object,
    "upload_object_via_stream": _upload_stream,
    "download_object": _download,
    "download_object_as_stream": _download_stream,
    "download_object_range": _download_range,
    "download_object_range_as_stream": _download_range_stream,
    "delete_object": _object,
    "enable_object_cdn": _object,
    "get_object_cdn_url": _object,
}

# ------------------------------------------------------------------------------------------ DNS


def _with_driver(check: Check) -> Check:
    """Mark a check that takes the driver first (to read e.g. its ``record_types``)."""
    setattr(check, _WITH_DRIVER, True)
    return check


def _zone(zone: object, *_: object, ttl: object = None, **__: object) -> None:
    expect(zone, Zone, "zone")
    _ttl(ttl)


def _record(record: object, *_: object, **__: object) -> None:
    expect(record, Record, "record")


def _zone_id(zone_id: object, **_: object) -> None:
    _identifier(zone_id, "zone id")


def _record_id(zone_id: object, record_id: object, **_: object) -> None:
    _identifier(zone_id, "zone id")
    _identifier(record_id, "record id")


def _create_zone(domain: object, *, type: object = "master", ttl: object = None, **_: object) -> None:
    _domain(domain)
    _ttl(ttl)


def _supported(driver: object, rtype: RecordType) -> None:
    supported = getattr(driver, "record_types", None)
    if supported is not None and rtype not in supported:
        listed = ", ".join(t.value for t in supported)
        raise ConfigurationError(
            f"{type(driver).__name__} does not support {rtype.value} records; supported: {listed}"
        )


def _create_record(
    driver: object,
    name: object,
    zone: object,
    type: object,
    data: object,
    *,
    ttl: object = None,
    extra: object = None,
    **_: object,
) -> None:
    _record_name(name)
    expect(zone, Zone, "zone")
    rtype = _record_type(type)
    _supported(driver, rtype)
    _record_data(rtype, data, extra)
    _ttl(ttl)


def _update_record(
    driver: object,
    record: object,
    *,
    name: object = None,
    type: object = None,
    data: object = None,
    ttl: object = None,
    extra: object = None,
    **_: object,
) -> None:
    expect(record, Record, "record")
    assert isinstance(record, Record)
    if name is not None:
        _record_name(name)
    rtype = _record_type(type) if type is not None else record.type
    if type is not None:
        _supported(driver, rtype)
    if data is not None:
        _record_data(rtype, data, extra)
    _ttl(ttl)


DNS_CHECKS: Final[Mapping[str, Check]] = {
    "get_zone": _zone_id,
    "create_zone": _create_zone,
    "update_zone": _zone,
    "delete_zone": _zone,
    "iterate_records": _zone,
    "list_records": _zone,
    "get_record": _record_id,
    "create_record": _with_driver(_create_record),
    "update_record": _with_driver(_update_record),
    "delete_record": _record,
}

# ------------------------------------------------------------------------------------------ compute


def _node(node: object, *_: object, **__: object) -> None:
    expect(node, Node, "node")


def _volume(volume: object, *_: object, **__: object) -> None:
    expect(volume, StorageVolume, "volume")


def _node_id(node_id: object, **_: object) -> None:
    _identifier(node_id, "node id")


def _image_id(image_id: object, **_: object) -> None:
    _identifier(image_id, "image id")


def _key_name(name: object, *_: object, **__: object) -> None:
    _name(name, "key pair name")


def _import_key_string(name: object, key_material: object, **_: object) -> None:
    _name(name, "key pair name")
    _identifier(key_material, "key_material")


def _import_key_file(name: object, key_file_path: object, **_: object) -> None:
    _name(name, "key pair name")
    _path(key_file_path, "key_file_path")


def _key_pair(key_pair: object, **_: object) -> None:
    expect(key_pair, KeyPair, "key_pair")


def _create_node(
    name: object,
    size: object,
    image: object,
    *,
    location: object = None,
    key_pair: object = None,
    user_data: object = None,
    **_: object,
) -> None:
    _name(name, "node name")
    expect(size, NodeSize, "size")
    expect(image, NodeImage, "image")
    _optional(location, NodeLocation, "location")
    _optional(key_pair, (KeyPair, str), "key_pair")
    _optional(user_data, (str, bytes), "user_data")


def _create_volume(
    size: object, name: object, *, location: object = None, snapshot: object = None, **_: object
) -> None:
    _int(size, "volume size (GiB)", minimum=1)
    _optional(name, str, "volume name")
    _optional(location, NodeLocation, "location")
    _optional(snapshot, VolumeSnapshot, "snapshot")


def _attach_volume(node: object, volume: object, device: object = None, **_: object) -> None:
    expect(node, Node, "node")
    expect(volume, StorageVolume, "volume")
    _optional(device, str, "device")


def _snapshot(snapshot: object, **_: object) -> None:
    expect(snapshot, VolumeSnapshot, "snapshot")


def _wait_until_running(
    nodes: object, *, wait_period: object = 5.0, timeout: object = 600.0, **_: object
) -> None:
    if isinstance(nodes, str | bytes) or not isinstance(nodes, Iterable):
        raise ConfigurationError(f"nodes must be a sequence of Node, got {type(nodes).__name__}")
    for node in nodes:
        expect(node, Node, "each of nodes")
    _positive_number(wait_period, "wait_period")
    _positive_number(timeout, "timeout")


COMPUTE_CHECKS: Final[Mapping[str, Check]] = {
    "get_node": _node_id,
    "get_image": _image_id,
    "create_node": _create_node,
    "reboot_node": _node,
    "start_node": _node,
    "stop_node": _node,
    "destroy_node": _node,
    "wait_until_running": _wait_until_running,
    "get_key_pair": _key_name,
    "create_key_pair": _key_name,
    "import_key_pair_from_string": _import_key_string,
    "import_key_pair_from_file": _import_key_file,
    "delete_key_pair": _key_pair,
    "create_volume": _create_volume,
    "attach_volume": _attach_volume,
    "detach_volume": _volume,
    "destroy_volume": _volume,
    "list_volume_snapshots": _volume,
    "create_volume_snapshot": _volume,
    "destroy_volume_snapshot": _snapshot,
}

# ------------------------------------------------------------------------------------------ load balancers


def _balancer(balancer: object, *_: object, **__: object) -> None:
    expect(balancer, LoadBalancer, "balancer")


def _balancer_id(balancer_id: object, **_: object) -> None:
    _identifier(balancer_id, "balancer id")


def _port(port: object, what: str) -> None:
    _int(port, what, minimum=1, maximum=65535)


def _member(member: object, what: str = "member") -> None:
    expect(member, Member, what)
    assert isinstance(member, Member)
    if member.ip is not None:
        try:
            ipaddress.ip_address(member.ip)
        except ValueError:
            raise ConfigurationError(f"{what} ip must be an IP address, got {_short(member.ip)}") from None
    if member.port is not None:
        _port(member.port, f"{what} port")


def _algorithm(algorithm: object) -> None:
    if isinstance(algorithm, Algorithm):
        return
    if isinstance(algorithm, str) and algorithm in {a.value for a in Algorithm}:
        return  # the enum's value is accepted where the enum is
    known = ", ".join(a.value for a in Algorithm)
    raise ConfigurationError(f"algorithm must be an Algorithm ({known}), got {_short(algorithm)}")


def _create_balancer(
    name: object, port: object, protocol: object, algorithm: object, members: object = (), **_: object
) -> None:
    _name(name, "balancer name")
    _port(port, "port")
    _identifier(protocol, "protocol")
    _algorithm(algorithm)
    if isinstance(members, str | bytes) or not isinstance(members, Iterable):
        raise ConfigurationError(f"members must be a sequence of Member, got {type(members).__name__}")
    for member in members:
        _member(member, "each of members")


def _update_balancer(
    balancer: object,
    *,
    name: object = None,
    port: object = None,
    protocol: object = None,
    algorithm: object = None,
    **_: object,
) -> None:
    expect(balancer, LoadBalancer, "balancer")
    if name is not None:
        _name(name, "balancer name")
    if port is not None:
        _port(port, "port")
    if protocol is not None:
        _identifier(protocol, "protocol")
    if algorithm is not None:
        _algorithm(algorithm)


def _balancer_member(balancer: object, member: object, **_: object) -> None:
    expect(balancer, LoadBalancer, "balancer")
    _member(member)


def _balancer_node(balancer: object, node: object, **_: object) -> None:
    expect(balancer, LoadBalancer, "balancer")
    expect(node, Node, "node")


LB_CHECKS: Final[Mapping[str, Check]] = {
    "get_balancer": _balancer_id,
    "create_balancer": _create_balancer,
    "destroy_balancer": _balancer,
    "update_balancer": _update_balancer,
    "balancer_attach_member": _balancer_member,
    "balancer_detach_member": _balancer_member,
    "balancer_list_members": _balancer,
    "balancer_attach_compute_node": _balancer_node,
}

# ------------------------------------------------------------------------------------------ wrapping


def _guard(verb: Callable[..., Any], check: Check) -> Callable[..., Any]:
    if getattr(check, _WITH_DRIVER, False):
        checked = check
    else:

        def checked(driver: Any, *args: Any, **kwargs: Any) -> None:
            check(*args, **kwargs)

    if inspect.iscoroutinefunction(verb):

        @functools.wraps(verb)
        async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            checked(self, *args, **kwargs)
            return await verb(self, *args, **kwargs)

    else:  # an async generator function (iterate_*) or a plain one returning an iterator

        @functools.wraps(verb)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            checked(self, *args, **kwargs)
            return verb(self, *args, **kwargs)

    setattr(guarded, _GUARDED, True)
    return guarded


def guard_verbs(cls: type, checks: Mapping[str, Check]) -> None:
    """Wrap the verbs ``cls`` itself defines with their checks (idempotent; inherited ones are left alone)."""
    for name, check in checks.items():
        verb = cls.__dict__.get(name)
        if verb is None or not callable(verb) or getattr(verb, _GUARDED, False):
            continue
        if getattr(verb, "__isabstractmethod__", False):
            continue
        setattr(cls, name, _guard(verb, check))


def check_name_type(name: object, kind: str) -> str:
    """Return ``name`` if it is a non-empty ``str`` (for drivers' own name rules), else InvalidNameError."""
    if not isinstance(name, str):
        raise InvalidNameError(f"{kind} name must be a str, got {type(name).__name__}")
    if not name:
        raise InvalidNameError(f"{kind} name must not be empty")
    return name
