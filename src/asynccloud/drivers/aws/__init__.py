"""Amazon Web Services (``Provider.AWS``): S3 (and S3-compatible stores), Route 53 DNS, ELBv2 balancers.

The names below are imported on first access (PEP 562), so importing one driver module
(``asynccloud.drivers.aws.s3``) does not import the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asynccloud.drivers.aws._s3_xml import PendingUpload
    from asynccloud.drivers.aws.elb import ELBv2LoadBalancerDriver
    from asynccloud.drivers.aws.route53 import Route53DNSDriver
    from asynccloud.drivers.aws.s3 import S3StorageDriver
    from asynccloud.drivers.aws.s3_compatible import (
        BackblazeB2StorageDriver,
        CephStorageDriver,
        CloudflareR2StorageDriver,
        DigitalOceanSpacesStorageDriver,
        MinIOStorageDriver,
        OvhStorageDriver,
        S3CompatibleStorageDriver,
        ScalewayStorageDriver,
        WasabiStorageDriver,
    )

__all__ = [
    "BackblazeB2StorageDriver",
    "CephStorageDriver",
    "CloudflareR2StorageDriver",
    "DigitalOceanSpacesStorageDriver",
    "ELBv2LoadBalancerDriver",
    "MinIOStorageDriver",
    "OvhStorageDriver",
    "PendingUpload",
    "Route53DNSDriver",
    "S3CompatibleStorageDriver",
    "S3StorageDriver",
    "ScalewayStorageDriver",
    "WasabiStorageDriver",
]

_MODULES = {
    "PendingUpload": "_s3_xml",
    "ELBv2LoadBalancerDriver": "elb",
    "Route53DNSDriver": "route53",
    "S3StorageDriver": "s3",
    **dict.fromkeys([name for name in __all__ if name.endswith("StorageDriver")], "s3_compatible"),
}
_MODULES["S3StorageDriver"] = "s3"


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
