"""Amazon Web Services (``Provider.AWS``): S3 (and S3-compatible stores), Route 53 DNS, ELBv2 balancers."""

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
