"""S3-compatible stores: the S3 driver with each store's default endpoint, region and addressing.

Each class only states how the store differs from AWS. All of them take the S3 driver's arguments;
``endpoint=`` overrides the default endpoint of any of them (another region's URL, a private
deployment). Credentials resolve as for AWS: explicit ``key``/``secret``, else the ``AWS_*`` environment
variables, else the shared credentials file. The AWS region variables are not read: these stores name
their regions differently. Path-style addressing is used by default: every one of them supports it.

==========================  ==============================================  ==================
driver                      default endpoint                                default region
==========================  ==============================================  ==================
DigitalOcean Spaces         ``https://{region}.digitaloceanspaces.com``      ``nyc3``
Wasabi                      ``https://s3.{region}.wasabisys.com``            ``us-east-1``
Backblaze B2                ``https://s3.{region}.backblazeb2.com``          (required)
Scaleway                    ``https://s3.{region}.scw.cloud``                ``fr-par``
OVHcloud                    ``https://s3.{region}.io.cloud.ovh.net``         ``gra``
Cloudflare R2               ``https://{account_id}.r2.cloudflarestorage.com``  ``auto``
MinIO, Ceph RGW             none: ``endpoint=`` is required                  ``us-east-1``
==========================  ==============================================  ==================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Unpack

from asynccloud.drivers.aws.s3 import DEFAULT_MAX_CONCURRENCY, DEFAULT_PART_SIZE, S3StorageDriver
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from asynccloud.drivers._http_driver import HttpOptions
    from asynccloud.drivers.aws._endpoints import Addressing
    from asynccloud.drivers.aws._s3_multipart import ChecksumAlgorithm

__all__ = [
    "BackblazeB2StorageDriver",
    "CephStorageDriver",
    "CloudflareR2StorageDriver",
    "DigitalOceanSpacesStorageDriver",
    "MinIOStorageDriver",
    "OvhStorageDriver",
    "S3CompatibleStorageDriver",
    "ScalewayStorageDriver",
    "WasabiStorageDriver",
]


class S3CompatibleStorageDriver(S3StorageDriver):
    """Base of the S3-compatible drivers (not registered itself: use a subclass, or S3 with ``endpoint=``)."""

    provider: ClassVar[str] = "s3_compatible"
    region_from_environment: ClassVar[bool] = False
    path_style_by_default: ClassVar[bool] = True
    # Hosted stores have one endpoint per region, which already says where a bucket goes.
    send_location_constraint: ClassVar[bool] = False


class DigitalOceanSpacesStorageDriver(S3CompatibleStorageDriver):
    """DigitalOcean Spaces (``Provider.DIGITALOCEAN_SPACES``); regions like ``nyc3``, ``ams3``, ``sgp1``."""

    provider: ClassVar[str] = "digitalocean_spaces"
    default_region: ClassVar[str | None] = "nyc3"
    endpoint_template: ClassVar[str | None] = "https://{region}.digitaloceanspaces.com"


class WasabiStorageDriver(S3CompatibleStorageDriver):
    """Wasabi (``Provider.WASABI``); regions like ``us-east-1``, ``eu-central-1``, ``ap-northeast-1``."""

    provider: ClassVar[str] = "wasabi"
    default_region: ClassVar[str | None] = "us-east-1"
    endpoint_template: ClassVar[str | None] = "https://s3.{region}.wasabisys.com"


class BackblazeB2StorageDriver(S3CompatibleStorageDriver):
    """Backblaze B2's S3 API (``Provider.BACKBLAZE_B2``); ``region=`` is required (e.g. ``us-west-004``).

    The key is the B2 application key id, the secret the application key.
    """

    provider: ClassVar[str] = "backblaze_b2"
    default_region: ClassVar[str | None] = None
    endpoint_template: ClassVar[str | None] = "https://s3.{region}.backblazeb2.com"


class ScalewayStorageDriver(S3CompatibleStorageDriver):
    """Scaleway Object Storage (``Provider.SCALEWAY``); regions ``fr-par``, ``nl-ams``, ``pl-waw``."""

    provider: ClassVar[str] = "scaleway"
    default_region: ClassVar[str | None] = "fr-par"
    endpoint_template: ClassVar[str | None] = "https://s3.{region}.scw.cloud"


class OvhStorageDriver(S3CompatibleStorageDriver):
    """OVHcloud Object Storage, S3 API (``Provider.OVH``); regions like ``gra``, ``sbg``, ``bhs``, ``de``."""

    provider: ClassVar[str] = "ovh"
    default_region: ClassVar[str | None] = "gra"
    endpoint_template: ClassVar[str | None] = "https://s3.{region}.io.cloud.ovh.net"


class MinIOStorageDriver(S3CompatibleStorageDriver):
    """A MinIO server (``Provider.MINIO``): ``endpoint=`` is required, region defaults to ``us-east-1``."""

    provider: ClassVar[str] = "minio"
    default_region: ClassVar[str | None] = "us-east-1"
    endpoint_required: ClassVar[bool] = True
    # A self-hosted server checks the constraint against its configured region.
    send_location_constraint: ClassVar[bool] = True


class CephStorageDriver(S3CompatibleStorageDriver):
    """A Ceph Object Gateway (RGW) (``Provider.CEPH``): ``endpoint=`` is required."""

    provider: ClassVar[str] = "ceph"
    default_region: ClassVar[str | None] = "us-east-1"
    endpoint_required: ClassVar[bool] = True
    # RGW reads the constraint as the zone group's API name.
    send_location_constraint: ClassVar[bool] = True


class CloudflareR2StorageDriver(S3CompatibleStorageDriver):
    """Cloudflare R2 (``Provider.CLOUDFLARE_R2``): pass ``account_id=`` (or a full ``endpoint=``).

    The region is ``auto``; the key and secret are those of an R2 API token.
    """

    provider: ClassVar[str] = "cloudflare_r2"
    default_region: ClassVar[str | None] = "auto"
    endpoint_template: ClassVar[str | None] = "https://{account_id}.r2.cloudflarestorage.com"

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        account_id: str | None = None,
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        profile: str | None = None,
        addressing: Addressing = "auto",
        multipart_threshold: int = DEFAULT_PART_SIZE,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        checksum: ChecksumAlgorithm | None = None,
        chunk_size: int = 1 << 20,
        **options: Unpack[HttpOptions],
    ) -> None:
        if endpoint is None and (
            not isinstance(account_id, str) or not account_id or not account_id.replace("-", "").isalnum()
        ):
            raise ConfigurationError(
                "Cloudflare R2 needs account_id=... (your Cloudflare account id) or endpoint=..."
            )
        self._account_id = account_id or ""
        super().__init__(
            key,
            secret,
            token=token,
            region=region,
            endpoint=endpoint,
            profile=profile,
            addressing=addressing,
            multipart_threshold=multipart_threshold,
            part_size=part_size,
            max_concurrency=max_concurrency,
            checksum=checksum,
            chunk_size=chunk_size,
            **options,
        )

    def _endpoint_values(self) -> dict[str, str]:
        return {"account_id": self._account_id}
