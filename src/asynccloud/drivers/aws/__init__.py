"""Amazon Web Services (``Provider.AWS``): S3 storage, and the S3-compatible stores built on it."""

from asynccloud.drivers.aws._s3_xml import PendingUpload
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
    "MinIOStorageDriver",
    "OvhStorageDriver",
    "PendingUpload",
    "S3CompatibleStorageDriver",
    "S3StorageDriver",
    "ScalewayStorageDriver",
    "WasabiStorageDriver",
]
