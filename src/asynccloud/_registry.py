"""Driver registry: ``get_driver(DriverType, Provider)`` resolves ``"module:Class"`` strings lazily.

Built-in drivers are listed below as strings, so ``import asynccloud`` imports no driver module. Third-party
packages register drivers through the entry-point group ``asynccloud.drivers``; the entry point's name is
``"<provider>:<driver type>"`` and its value ``"package.module:Class"``, e.g. in ``pyproject.toml``::

    [project.entry-points."asynccloud.drivers"]
    "mycloud:storage" = "mycloud_asynccloud.storage:MyCloudStorageDriver"

Code can also call :func:`register_driver`. Resolved classes are cached.
"""

from __future__ import annotations

import importlib
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, overload

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from asynccloud.drivers.base import ComputeDriver, DNSDriver, LoadBalancerDriver, StorageDriver

__all__ = ["DriverType", "Provider", "available_drivers", "get_driver", "register_driver"]

ENTRY_POINT_GROUP = "asynccloud.drivers"


class DriverType(StrEnum):
    """The four kinds of driver."""

    COMPUTE = "compute"
    STORAGE = "storage"
    DNS = "dns"
    LOADBALANCER = "loadbalancer"


class Provider(StrEnum):
    """Providers with built-in drivers. One member may serve several driver types."""

    LOCAL = "local"
    MEMORY = "memory"  # in-process compute for tests, demos and dry runs
    AWS = "aws"
    S3 = "aws"  # alias of AWS, for Libcloud users
    DIGITALOCEAN_SPACES = "digitalocean_spaces"
    WASABI = "wasabi"
    BACKBLAZE_B2 = "backblaze_b2"
    SCALEWAY = "scaleway"
    OVH = "ovh"
    CLOUDFLARE_R2 = "cloudflare_r2"
    MINIO = "minio"
    CEPH = "ceph"
    OPENSTACK = "openstack"
    RACKSPACE = "rackspace"
    CLOUDFILES = "cloudfiles"
    POWERDNS = "powerdns"
    AZURE_BLOBS = "azure_blobs"
    HETZNER = "hetzner"


_BUILTIN: dict[tuple[DriverType, str], str] = {
    (DriverType.STORAGE, Provider.LOCAL): "asynccloud.drivers.local.storage:LocalStorageDriver",
    (DriverType.COMPUTE, Provider.MEMORY): "asynccloud.drivers.memory.compute:MemoryComputeDriver",
    (DriverType.STORAGE, Provider.AWS): "asynccloud.drivers.aws.s3:S3StorageDriver",
    (DriverType.COMPUTE, Provider.AWS): "asynccloud.drivers.aws.ec2:EC2NodeDriver",
    (DriverType.DNS, Provider.AWS): "asynccloud.drivers.aws.route53:Route53DNSDriver",
    (DriverType.LOADBALANCER, Provider.AWS): "asynccloud.drivers.aws.elb:ELBv2LoadBalancerDriver",
    (DriverType.STORAGE, Provider.DIGITALOCEAN_SPACES): (
        "asynccloud.drivers.aws.s3_compatible:DigitalOceanSpacesStorageDriver"
    ),
    (DriverType.STORAGE, Provider.WASABI): "asynccloud.drivers.aws.s3_compatible:WasabiStorageDriver",
    (DriverType.STORAGE, Provider.BACKBLAZE_B2): (
        "asynccloud.drivers.aws.s3_compatible:BackblazeB2StorageDriver"
    ),
    (DriverType.STORAGE, Provider.SCALEWAY): "asynccloud.drivers.aws.s3_compatible:ScalewayStorageDriver",
    (DriverType.STORAGE, Provider.OVH): "asynccloud.drivers.aws.s3_compatible:OvhStorageDriver",
    (DriverType.STORAGE, Provider.CLOUDFLARE_R2): (
        "asynccloud.drivers.aws.s3_compatible:CloudflareR2StorageDriver"
    ),
    (DriverType.STORAGE, Provider.MINIO): "asynccloud.drivers.aws.s3_compatible:MinIOStorageDriver",
    (DriverType.STORAGE, Provider.CEPH): "asynccloud.drivers.aws.s3_compatible:CephStorageDriver",
    (DriverType.COMPUTE, Provider.OPENSTACK): "asynccloud.drivers.openstack.nova:OpenStackNodeDriver",
    (DriverType.COMPUTE, Provider.RACKSPACE): "asynccloud.drivers.rackspace.compute:RackspaceNodeDriver",
    (DriverType.STORAGE, Provider.OPENSTACK): "asynccloud.drivers.openstack.swift:SwiftStorageDriver",
    (DriverType.DNS, Provider.OPENSTACK): "asynccloud.drivers.openstack.designate:DesignateDNSDriver",
    (DriverType.DNS, Provider.RACKSPACE): "asynccloud.drivers.rackspace.dns:RackspaceDNSDriver",
    (DriverType.DNS, Provider.POWERDNS): "asynccloud.drivers.powerdns.dns:PowerDNSDriver",
    (DriverType.STORAGE, Provider.AZURE_BLOBS): "asynccloud.drivers.azure.blob:AzureBlobsStorageDriver",
    (DriverType.COMPUTE, Provider.HETZNER): "asynccloud.drivers.hetzner.compute:HetznerNodeDriver",
    (DriverType.LOADBALANCER, Provider.OPENSTACK): (
        "asynccloud.drivers.openstack.octavia:OctaviaLoadBalancerDriver"
    ),
    (DriverType.LOADBALANCER, Provider.RACKSPACE): (
        "asynccloud.drivers.rackspace.loadbalancer:RackspaceLoadBalancerDriver"
    ),
    (DriverType.STORAGE, Provider.RACKSPACE): (
        "asynccloud.drivers.rackspace.cloudfiles:CloudFilesStorageDriver"
    ),
    (DriverType.STORAGE, Provider.CLOUDFILES): (
        "asynccloud.drivers.rackspace.cloudfiles:CloudFilesStorageDriver"
    ),
}

_lock = threading.Lock()
_registered: dict[tuple[DriverType, str], str | type[Any]] = {}
_resolved: dict[tuple[DriverType, str], type[Any]] = {}
_entry_points_loaded = False


def entry_points(*, group: str) -> Any:
    """``importlib.metadata.entry_points``, imported on first use (~13 ms of ``import asynccloud``)."""
    from importlib.metadata import entry_points as select

    return select(group=group)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        provider, sep, kind = ep.name.partition(":")
        try:
            driver_type = DriverType(kind)
        except ValueError:
            driver_type = None
        if not sep or not provider or driver_type is None:
            raise ConfigurationError(
                f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP!r} must be named "
                f"'<provider>:<driver type>' with a driver type in {[t.value for t in DriverType]}"
            )
        _registered.setdefault((driver_type, provider.lower()), ep.value)
    _entry_points_loaded = True


def register_driver(driver_type: DriverType | str, provider: Provider | str, target: str | type[Any]) -> None:
    """Register (or replace) the driver for ``(driver_type, provider)``.

    Args:
        driver_type: The kind of driver.
        provider: A :class:`Provider` member or a third-party provider name.
        target: The driver class, or a ``"module:Class"`` string imported on first use.
    """
    key = (_driver_type(driver_type), str(provider).lower())
    with _lock:
        _registered[key] = target
        _resolved.pop(key, None)


def available_drivers() -> list[tuple[DriverType, str]]:
    """Every ``(driver type, provider)`` pair that :func:`get_driver` can resolve, sorted."""
    with _lock:
        _load_entry_points()
        return sorted({*_BUILTIN, *_registered})


@overload
def get_driver(driver_type: Literal[DriverType.COMPUTE], provider: Provider | str) -> type[ComputeDriver]: ...
@overload
def get_driver(driver_type: Literal[DriverType.STORAGE], provider: Provider | str) -> type[StorageDriver]: ...
@overload
def get_driver(driver_type: Literal[DriverType.DNS], provider: Provider | str) -> type[DNSDriver]: ...
@overload
def get_driver(
    driver_type: Literal[DriverType.LOADBALANCER], provider: Provider | str
) -> type[LoadBalancerDriver]: ...
@overload
def get_driver(driver_type: DriverType | str, provider: Provider | str) -> type[Any]: ...
def get_driver(driver_type: DriverType | str, provider: Provider | str) -> type[Any]:
    """Return the driver class for a driver type and provider, importing its module on first use.

    Args:
        driver_type: ``DriverType.STORAGE`` etc. (or its string value).
        provider: ``Provider.LOCAL`` etc., or the name a third-party package registered.

    Raises:
        ConfigurationError: No driver is registered for the pair (the message lists those that are),
            or its module cannot be imported.
    """
    key = (_driver_type(driver_type), str(provider).lower())
    with _lock:
        cached = _resolved.get(key)
        if cached is not None:
            return cached
        _load_entry_points()
        target = _registered.get(key) or _BUILTIN.get(key)
    if target is None:
        known = ", ".join(f"({t.value}, {p})" for t, p in available_drivers())
        raise ConfigurationError(
            f"no {key[0].value} driver for provider {key[1]!r}; available (driver type, provider): {known}"
        )
    cls = _import(target) if isinstance(target, str) else target
    with _lock:
        _resolved[key] = cls
    return cls


def _driver_type(value: DriverType | str) -> DriverType:
    try:
        return DriverType(value)
    except ValueError:
        raise ConfigurationError(
            f"unknown driver type {value!r}; expected one of {[t.value for t in DriverType]}"
        ) from None


def _import(target: str) -> type[Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load driver {target!r}: {exc}") from exc
    if not isinstance(cls, type):
        raise ConfigurationError(f"driver {target!r} is not a class")
    return cls
