"""Amazon EC2 compute (``Provider.AWS``): instances, instance types, AMIs, zones, key pairs, EBS.

Every call is an AWS Query request (:mod:`._query`) signed with SigV4 for service ``ec2``, through the
shared pipeline (one retry loop; ``RequestLimitExceeded`` and friends are retried with backoff).

* Nodes: ``DescribeInstances`` following ``NextToken`` to the end; ``RunInstances`` with a ``ClientToken``
  (a fresh UUID per :meth:`EC2NodeDriver.create_node` call, stable across its retries, so a retried POST
  never starts a second instance) and the name as the ``Name`` tag; reboot/start/stop/terminate.
* Sizes: ``DescribeInstanceTypes`` (vCPUs, RAM MiB, instance-store disk, price from a small built-in table
  or ``None``). Pass ``instance_types=[...]`` to ask for a few: the unfiltered catalogue is large.
* Images: ``DescribeImages`` for ``owner="self"`` by default; ``owner="amazon"`` or an account id and a
  ``name`` glob select public ones. The whole public catalogue is never fetched unasked.
* Locations: the region's availability zones. Key pairs; EBS volumes and snapshots.

Usage::

    async with EC2NodeDriver(region="eu-west-1") as ec2:                  # credentials from env/files
        [size] = await ec2.list_sizes(instance_types=["t3.micro"])
        [image, *_] = await ec2.list_images(owner="amazon", name="al2023-ami-2023.*-x86_64")
        node = await ec2.create_node("web1", size, image, key_pair="me", security_groups=["sg-123"])
        [(node, ips)] = await ec2.wait_until_running([node])

See ``docs/compute.md``.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

from asynccloud._capability import Capability
from asynccloud._pagination import collect, token_pages
from asynccloud.auth.sigv4 import SigV4Auth
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import ComputeDriverBase
from asynccloud.drivers.aws._common import (
    DEFAULT_REGION,
    aws_service_endpoint,
    parse_endpoint,
    resolve_aws_settings,
)
from asynccloud.drivers.aws._ec2_parse import (
    to_image,
    to_key_pair,
    to_location,
    to_node,
    to_size,
    to_snapshot,
    to_volume,
)
from asynccloud.drivers.aws._query import QueryErrorPolicy, items, query, text
from asynccloud.errors import (
    ConfigurationError,
    ConflictError,
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    ProviderError,
    QuotaExceededError,
    VolumeNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence
    from xml.etree.ElementTree import Element

    from asynccloud.models import (
        KeyPair,
        Node,
        NodeImage,
        NodeLocation,
        NodeSize,
        StorageVolume,
        VolumeSnapshot,
    )

__all__ = ["EC2_API_VERSION", "EC2ErrorPolicy", "EC2NodeDriver"]

EC2_API_VERSION: Final = "2016-11-15"
#: EC2 accepts at most 16 KiB of user data, before base64.
MAX_USER_DATA: Final = 16 * 1024
DEFAULT_POOLS: Final = 4
DEFAULT_DEVICE: Final = "/dev/sdf"


class EC2ErrorPolicy(QueryErrorPolicy):
    """EC2 error codes onto the error tree (on top of :data:`~._query.COMMON_CODE_ERRORS`)."""

    code_errors: ClassVar[Mapping[str, type[ProviderError]]] = {
        "InvalidInstanceID.NotFound": NodeNotFoundError,
        "InvalidInstanceID.Malformed": NodeNotFoundError,
        "InvalidAMIID.NotFound": ImageNotFoundError,
        "InvalidAMIID.Malformed": ImageNotFoundError,
        "InvalidAMIID.Unavailable": ImageNotFoundError,
        "InvalidKeyPair.NotFound": KeyPairNotFoundError,
        "InvalidKeyPair.Duplicate": KeyPairAlreadyExistsError,
        "InvalidVolume.NotFound": VolumeNotFoundError,
        "InvalidVolume.Malformed": VolumeNotFoundError,
        "InvalidSnapshot.NotFound": VolumeNotFoundError,
        "IncorrectState": ConflictError,
        "IncorrectInstanceState": ConflictError,
        "VolumeInUse": ConflictError,
        "InvalidVolume.ZoneMismatch": ConflictError,
        "IdempotentParameterMismatch": ConflictError,
        "InstanceLimitExceeded": QuotaExceededError,
        "VolumeLimitExceeded": QuotaExceededError,
        "VcpuLimitExceeded": QuotaExceededError,
        "SnapshotLimitExceeded": QuotaExceededError,
        "InsufficientInstanceCapacity": QuotaExceededError,
    }


def _check_page_size(value: int, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be an int between {low} and {high}, got {value!r}")
    return value


class EC2NodeDriver(HttpDriverBase, ComputeDriverBase):
    """Amazon EC2.

    Args:
        key: Access key id; with ``secret`` (and ``token``) it overrides the environment and shared files.
        secret: Secret access key.
        token: Session token of temporary credentials.
        region: Region (default from ``AWS_REGION``/``AWS_DEFAULT_REGION``/the config file, else
            ``us-east-1``); picks ``https://ec2.<region>.amazonaws.com`` and signs for it.
        endpoint: Another endpoint (moto, LocalStack, a VPC endpoint): every request goes there.
        profile: Profile of the shared credentials/config files.
        page_size: ``MaxResults`` of ``DescribeInstances`` (5-1000); every listing follows ``NextToken``.
        **options: The portable HTTP options (``timeout``, ``retry``, ``http_client``, ``transport``,
            ``limits``, ``pools``, ``verify``).

    Raises:
        ConfigurationError: No credentials were found, or an option is invalid.
    """

    provider: ClassVar[str] = "aws"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.NODE_REBOOT,
            Capability.NODE_START_STOP,
            Capability.KEY_PAIRS,
            Capability.KEY_PAIR_CREATE,
            Capability.VOLUMES,
            Capability.VOLUME_SNAPSHOTS,
        }
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        profile: str | None = None,
        page_size: int = 1000,
        **options: Unpack[HttpOptions],
    ) -> None:
        self._page_size = _check_page_size(page_size, "page_size", 5, 1000)
        aws = resolve_aws_settings(
            key, secret, token, region=region, profile=profile, default_region=DEFAULT_REGION
        )
        self.region = aws.region
        self._region: str = aws.region
        base = (
            parse_endpoint(endpoint)
            if endpoint is not None
            else parse_endpoint(aws_service_endpoint("ec2", aws.region))
        )
        self.endpoint = str(base)
        http_options = HttpOptions(**options)
        if not any(name in http_options for name in ("http_client", "transport", "pools")):
            http_options["pools"] = DEFAULT_POOLS
        secrets = [aws.credentials.secret_access_key, aws.credentials.session_token or ""]
        self._http = self._open_http(
            http_options,
            base_url=self.endpoint,
            auth=SigV4Auth(aws.credentials, aws.region, "ec2"),
            error_policy=EC2ErrorPolicy(self.provider),
            secrets=[s for s in secrets if s],
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(region={self.region!r}, endpoint={self.endpoint!r})"

    async def _call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = False,
        idempotency_key: bool = False,
    ) -> Element:
        return await query(
            self._http,
            action,
            EC2_API_VERSION,
            params,
            idempotent=idempotent,
            idempotency_key=idempotency_key,
            provider=self.provider,
        )

    def _pages(
        self, action: str, list_path: str, params: Mapping[str, Any], *, page_size: int | None
    ) -> AsyncIterator[Element]:
        """Every ``item`` of ``list_path`` over all pages of a ``Describe*`` call (read-only: retried)."""

        async def fetch(token: str | None) -> tuple[list[Element], str | None]:
            page = dict(params)
            if page_size is not None:
                page["MaxResults"] = page_size
            page["NextToken"] = token
            root = await self._call(action, page, idempotent=True)
            return items(root, list_path), text(root, "nextToken")

        return token_pages(fetch, provider=self.provider)

    # ---------------------------------------------------------------------------------------- nodes

    async def iterate_nodes(
        self, *, filters: Mapping[str, str | Sequence[str]] | None = None
    ) -> AsyncIterator[Node]:
        """Every instance (terminated ones too, while EC2 still lists them), following ``NextToken``.

        Args:
            filters: EC2 filters, e.g. ``{"instance-state-name": "running", "tag:role": ["web"]}``.
        """
        params = {"Filter": _filters(filters)}
        async for reservation in self._pages(
            "DescribeInstances", "reservationSet", params, page_size=self._page_size
        ):
            reservation_id = text(reservation, "reservationId")
            for instance in items(reservation, "instancesSet"):
                yield self.bind(to_node(instance, reservation_id=reservation_id))

    async def list_nodes(self, *, filters: Mapping[str, str | Sequence[str]] | None = None) -> list[Node]:
        """All instances (see :meth:`iterate_nodes`)."""
        return await collect(self.iterate_nodes(filters=filters))

    async def get_node(self, node_id: str) -> Node:
        """One instance (``NodeNotFoundError`` when EC2 does not know the id)."""
        root = await self._call("DescribeInstances", {"InstanceId": [node_id]}, idempotent=True)
        for reservation in items(root, "reservationSet"):
            for instance in items(reservation, "instancesSet"):
                return self.bind(to_node(instance, reservation_id=text(reservation, "reservationId")))
        raise NodeNotFoundError(f"no instance {node_id!r}", provider=self.provider)

    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
        security_groups: Sequence[str] | None = None,
        subnet: str | None = None,
        tags: Mapping[str, str] | None = None,
        client_token: str | None = None,
    ) -> Node:
        """Start one instance (``RunInstances``); the node returned is usually ``PENDING``.

        Args:
            name: Becomes the ``Name`` tag (set atomically via ``TagSpecification``).
            size: The instance type.
            image: The AMI.
            location: Availability zone (from :meth:`list_locations`).
            key_pair: Key pair (or its name) for SSH.
            user_data: Cloud-init data (at most 16 KiB); sent base64-encoded.
            security_groups: Security group ids (``sg-...``) or, in a default VPC, names.
            subnet: Subnet id to launch into.
            tags: More tags for the instance.
            client_token: Idempotency token; a fresh UUID by default. The same token makes EC2 return the
                instance it already started instead of a second one, which is why this POST is retried.
        """
        if not name:
            raise ConfigurationError("create_node needs a non-empty name")
        all_tags = {**(tags or {}), "Name": name}
        params: dict[str, Any] = {
            "ImageId": image.id,
            "InstanceType": size.id,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": client_token or str(uuid.uuid4()),
            "TagSpecification": [
                {"ResourceType": "instance", "Tag": [{"Key": k, "Value": v} for k, v in all_tags.items()]}
            ],
        }
        if location is not None:
            params["Placement"] = {"AvailabilityZone": location.id}
        if key_pair is not None:
            params["KeyName"] = key_pair if isinstance(key_pair, str) else key_pair.name
        if user_data is not None:
            raw = user_data.encode() if isinstance(user_data, str) else bytes(user_data)
            if len(raw) > MAX_USER_DATA:
                raise ConfigurationError(
                    f"user_data is {len(raw)} bytes; EC2 accepts at most {MAX_USER_DATA}"
                )
            params["UserData"] = base64.b64encode(raw).decode("ascii")
        if security_groups:
            groups = list(security_groups)
            by_id = [g for g in groups if g.startswith("sg-")]
            by_name = [g for g in groups if not g.startswith("sg-")]
            params["SecurityGroupId"] = by_id or None
            params["SecurityGroup"] = by_name or None
        if subnet is not None:
            params["SubnetId"] = subnet
        root = await self._call("RunInstances", params, idempotency_key=True)
        instances = items(root, "instancesSet")
        if not instances:
            raise ProviderError("RunInstances answered without an instance", provider=self.provider)
        return self.bind(to_node(instances[0], reservation_id=text(root, "reservationId")))

    async def _instance_action(self, action: str, node: Node) -> None:
        # State changes are idempotent: repeating Stop/Start/Reboot/Terminate does no harm.
        await self._call(action, {"InstanceId": [node.id]}, idempotent=True)

    async def reboot_node(self, node: Node) -> None:
        """Reboot an instance (``RebootInstances``)."""
        await self._instance_action("RebootInstances", node)

    async def start_node(self, node: Node) -> None:
        """Start a stopped instance (``StartInstances``)."""
        await self._instance_action("StartInstances", node)

    async def stop_node(self, node: Node) -> None:
        """Stop an EBS-backed instance (``StopInstances``)."""
        await self._instance_action("StopInstances", node)

    async def destroy_node(self, node: Node) -> None:
        """Terminate an instance (``TerminateInstances``); EC2 keeps listing it as terminated for a while."""
        await self._instance_action("TerminateInstances", node)

    # --------------------------------------------------------------------------- sizes, images, zones

    async def iterate_sizes(
        self, *, location: NodeLocation | None = None, instance_types: Sequence[str] | None = None
    ) -> AsyncIterator[NodeSize]:
        """Instance types (``DescribeInstanceTypes``), all pages.

        Args:
            location: Ignored (every zone of the region offers most types).
            instance_types: Only these types, e.g. ``["t3.micro", "t3.small"]``; the unfiltered catalogue
                has hundreds of entries.
        """
        params: dict[str, Any] = {"InstanceType": list(instance_types) if instance_types else None}
        # MaxResults may not be combined with explicit instance types.
        page_size = None if instance_types else 100
        async for item in self._pages(
            "DescribeInstanceTypes", "instanceTypeSet", params, page_size=page_size
        ):
            yield to_size(item, self._region)

    async def list_sizes(
        self, *, location: NodeLocation | None = None, instance_types: Sequence[str] | None = None
    ) -> list[NodeSize]:
        """All (or the named) instance types; see :meth:`iterate_sizes`."""
        return await collect(self.iterate_sizes(location=location, instance_types=instance_types))

    async def iterate_images(
        self,
        *,
        location: NodeLocation | None = None,
        owner: str | None = "self",
        name: str | None = None,
        filters: Mapping[str, str | Sequence[str]] | None = None,
    ) -> AsyncIterator[NodeImage]:
        """AMIs (``DescribeImages``): the caller's own by default.

        Args:
            location: Ignored (AMIs are regional).
            owner: ``"self"`` (default), ``"amazon"``, ``"aws-marketplace"`` or an account id. ``None``
                drops the owner condition; then ``name`` or ``filters`` are required, so the whole public
                catalogue is never fetched by accident.
            name: A name glob (``*`` and ``?``), e.g. ``"al2023-ami-2023.*-x86_64"``.
            filters: More EC2 filters (``{"architecture": "arm64"}``).
        """
        if owner is None and not name and not filters:
            raise ConfigurationError(
                "list_images(owner=None) needs name= or filters=: the unfiltered public AMI catalogue is huge"
            )
        all_filters = dict(filters or {})
        if name:
            all_filters["name"] = name
        params: dict[str, Any] = {"Owner": [owner] if owner else None, "Filter": _filters(all_filters)}
        async for item in self._pages("DescribeImages", "imagesSet", params, page_size=1000):
            yield self.bind(to_image(item))

    async def list_images(
        self,
        *,
        location: NodeLocation | None = None,
        owner: str | None = "self",
        name: str | None = None,
        filters: Mapping[str, str | Sequence[str]] | None = None,
    ) -> list[NodeImage]:
        """AMIs; see :meth:`iterate_images`."""
        return await collect(self.iterate_images(location=location, owner=owner, name=name, filters=filters))

    async def get_image(self, image_id: str) -> NodeImage:
        """One AMI by id (``ImageNotFoundError`` when there is none)."""
        root = await self._call("DescribeImages", {"ImageId": [image_id]}, idempotent=True)
        for item in items(root, "imagesSet"):
            return self.bind(to_image(item))
        raise ImageNotFoundError(f"no image {image_id!r}", provider=self.provider)

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        """The availability zones of the region (``DescribeAvailabilityZones``)."""
        root = await self._call("DescribeAvailabilityZones", idempotent=True)
        for item in items(root, "availabilityZoneInfo"):
            yield self.bind(to_location(item))

    # ------------------------------------------------------------------------------------ key pairs

    async def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """Every key pair of the region (``DescribeKeyPairs``, one page)."""
        root = await self._call("DescribeKeyPairs", {"IncludePublicKey": True}, idempotent=True)
        for item in items(root, "keySet"):
            yield self.bind(to_key_pair(item))

    async def get_key_pair(self, name: str) -> KeyPair:
        """One key pair by name (``KeyPairNotFoundError`` when there is none)."""
        root = await self._call(
            "DescribeKeyPairs", {"KeyName": [name], "IncludePublicKey": True}, idempotent=True
        )
        for item in items(root, "keySet"):
            return self.bind(to_key_pair(item))
        raise KeyPairNotFoundError(f"no key pair {name!r}", provider=self.provider)

    async def create_key_pair(self, name: str) -> KeyPair:
        """Have EC2 generate a key pair; its private key is in the result only (``SecretStr``).

        Raises:
            KeyPairAlreadyExistsError: The name is taken.
        """
        root = await self._call("CreateKeyPair", {"KeyName": name})
        return self.bind(to_key_pair(root))

    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Register an OpenSSH public key (RSA or ed25519) under ``name``.

        Raises:
            KeyPairAlreadyExistsError: The name is taken.
        """
        material = base64.b64encode(key_material.strip().encode()).decode("ascii")
        root = await self._call("ImportKeyPair", {"KeyName": name, "PublicKeyMaterial": material})
        pair = to_key_pair(root)
        return self.bind(pair.model_copy(update={"public_key": pair.public_key or key_material.strip()}))

    async def delete_key_pair(self, key_pair: KeyPair) -> None:
        """Delete a key pair (EC2 does not complain when it is already gone)."""
        await self._call("DeleteKeyPair", {"KeyName": key_pair.name}, idempotent=True)

    # ------------------------------------------------------------------------------ volumes, snapshots

    async def iterate_volumes(self) -> AsyncIterator[StorageVolume]:
        """Every EBS volume (``DescribeVolumes``, all pages)."""
        async for item in self._pages("DescribeVolumes", "volumeSet", {}, page_size=500):
            yield self.bind(to_volume(item))

    async def get_volume(self, volume_id: str) -> StorageVolume:
        """One volume (``VolumeNotFoundError`` when there is none)."""
        root = await self._call("DescribeVolumes", {"VolumeId": [volume_id]}, idempotent=True)
        for item in items(root, "volumeSet"):
            return self.bind(to_volume(item))
        raise VolumeNotFoundError(f"no volume {volume_id!r}", provider=self.provider)

    async def create_volume(
        self,
        size: int,
        name: str,
        *,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | None = None,
        volume_type: str = "gp3",
    ) -> StorageVolume:
        """Create an EBS volume of ``size`` GiB, named by its ``Name`` tag, with a client token.

        Args:
            size: GiB.
            name: The ``Name`` tag.
            location: Availability zone; the region's first zone by default.
            snapshot: Restore this snapshot.
            volume_type: ``gp3`` (default), ``gp2``, ``io2``, ``st1``, ...
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"size must be a positive number of GiB, got {size!r}")
        zone = location.id if location is not None else (await self.list_locations())[0].id
        params: dict[str, Any] = {
            "Size": size,
            "AvailabilityZone": zone,
            "VolumeType": volume_type,
            "SnapshotId": snapshot.id if snapshot is not None else None,
            "ClientToken": str(uuid.uuid4()),
            "TagSpecification": [{"ResourceType": "volume", "Tag": [{"Key": "Name", "Value": name}]}],
        }
        root = await self._call("CreateVolume", params, idempotency_key=True)
        volume = to_volume(root)
        return self.bind(volume if volume.name else volume.model_copy(update={"name": name}))

    async def attach_volume(self, node: Node, volume: StorageVolume, device: str | None = None) -> None:
        """Attach a volume to an instance in the same zone, as ``device`` (default ``/dev/sdf``)."""
        params = {"VolumeId": volume.id, "InstanceId": node.id, "Device": device or DEFAULT_DEVICE}
        await self._call("AttachVolume", params)

    async def detach_volume(self, volume: StorageVolume) -> None:
        """Detach a volume from its instance.

        The instance and device are sent too (read from the volume's current attachment): EC2 only needs
        the volume id, but some implementations (moto) require them.
        """
        current = await self.get_volume(volume.id)
        params = {
            "VolumeId": volume.id,
            "InstanceId": current.extra.get("instance_id"),
            "Device": current.extra.get("device"),
        }
        await self._call("DetachVolume", params)

    async def destroy_volume(self, volume: StorageVolume) -> None:
        """Delete a (detached) volume."""
        await self._call("DeleteVolume", {"VolumeId": volume.id}, idempotent=True)

    async def list_volume_snapshots(self, volume: StorageVolume | None = None) -> list[VolumeSnapshot]:
        """Your snapshots of ``volume`` (all of your snapshots when ``None``), all pages."""
        params: dict[str, Any] = {"Owner": ["self"]}
        if volume is not None:
            params["Filter"] = _filters({"volume-id": volume.id})
        return [
            self.bind(to_snapshot(item))
            async for item in self._pages("DescribeSnapshots", "snapshotSet", params, page_size=1000)
        ]

    async def create_volume_snapshot(self, volume: StorageVolume, name: str | None = None) -> VolumeSnapshot:
        """Snapshot a volume (``CreateSnapshot``); ``name`` becomes the description and ``Name`` tag."""
        params: dict[str, Any] = {"VolumeId": volume.id, "Description": name}
        if name:
            params["TagSpecification"] = [
                {"ResourceType": "snapshot", "Tag": [{"Key": "Name", "Value": name}]}
            ]
        root = await self._call("CreateSnapshot", params)
        return self.bind(to_snapshot(root))

    async def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> None:
        """Delete a snapshot."""
        await self._call("DeleteSnapshot", {"SnapshotId": snapshot.id}, idempotent=True)


def _filters(filters: Mapping[str, str | Sequence[str]] | None) -> list[dict[str, Any]] | None:
    """EC2 ``Filter.N.Name``/``Filter.N.Value.M`` structures from a mapping."""
    if not filters:
        return None
    return [
        {"Name": key, "Value": [value] if isinstance(value, str) else list(value)}
        for key, value in filters.items()
    ]
