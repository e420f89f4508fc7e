"""Per-kind driver bases: the parts of each protocol that are the same for every provider.

Drivers asynccloud ships inherit one of these. A base derives ``list_*`` from ``iterate_*``, implements
verbs that are compositions of others (``upload_object`` from ``upload_object_via_stream``, downloads to a
path from the stream verbs, ``wait_until_running`` from ``list_nodes``, ``import_key_pair_from_file`` from
``import_key_pair_from_string``), and raises :class:`~asynccloud.errors.NotSupportedError` for optional verbs
a driver does not override. The provider-specific core is abstract: a driver that forgets one cannot be built.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio

from asynccloud._capability import Capability
from asynccloud._pagination import collect
from asynccloud._polling import poll_until
from asynccloud._streams import StreamHasher, hashed, write_stream_atomically
from asynccloud.drivers._guards import COMPUTE_CHECKS, DNS_CHECKS, LB_CHECKS, STORAGE_CHECKS, guard_verbs
from asynccloud.drivers.base import BaseDriver
from asynccloud.errors import (
    ConfigurationError,
    DestinationExistsError,
    IntegrityError,
    NotSupportedError,
)
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
    NodeState,
    Object,
    Record,
    RecordType,
    StorageVolume,
    VolumeSnapshot,
    Zone,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from asynccloud._streams import UploadSource
    from asynccloud.deployment import Deployment, HostKeyPolicy, KeySource

__all__ = ["ComputeDriverBase", "DNSDriverBase", "LoadBalancerDriverBase", "StorageDriverBase"]

DEFAULT_CHUNK_SIZE = 1 << 20


def check_range(start_bytes: int, end_bytes: int | None, size: int | None = None) -> None:
    """Validate a byte range ``[start_bytes, end_bytes)``; ``end_bytes=None`` means to the end."""
    if start_bytes < 0:
        raise ConfigurationError(f"start_bytes must be >= 0, got {start_bytes}")
    if end_bytes is not None and end_bytes <= start_bytes:
        raise ConfigurationError(
            f"end_bytes is exclusive and must be greater than start_bytes ({start_bytes}), got {end_bytes}"
        )
    if size is not None and end_bytes is not None and end_bytes > size:
        raise ConfigurationError(f"end_bytes {end_bytes} is past the end of the object ({size} bytes)")


class StorageDriverBase(BaseDriver, abc.ABC):
    """Shared storage verbs; subclasses implement the provider's containers and objects."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_verbs(cls, STORAGE_CHECKS)  # argument checks before any request (drivers/_guards.py)

    default_chunk_size: int = DEFAULT_CHUNK_SIZE

    @abc.abstractmethod
    def iterate_containers(self) -> AsyncIterator[Container]: ...

    @abc.abstractmethod
    async def get_container(self, container_name: str) -> Container: ...

    @abc.abstractmethod
    async def create_container(self, container_name: str) -> Container: ...

    @abc.abstractmethod
    async def delete_container(self, container: Container) -> None: ...

    @abc.abstractmethod
    def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]: ...

    @abc.abstractmethod
    async def get_object(self, container_name: str, object_name: str) -> Object: ...

    @abc.abstractmethod
    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object: ...

    @abc.abstractmethod
    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]: ...

    @abc.abstractmethod
    async def delete_object(self, obj: Object) -> None: ...

    async def list_containers(self) -> list[Container]:
        """All containers (collects :meth:`iterate_containers`)."""
        return await collect(self.iterate_containers())

    async def list_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> list[Object]:
        """All objects of a container (collects :meth:`iterate_container_objects`)."""
        return await collect(self.iterate_container_objects(container, prefix=prefix))

    async def upload_object(
        self,
        file_path: str | Path,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
        verify_hash: bool = True,
    ) -> Object:
        """Upload a local file; the object's hash is checked where the provider reports one."""
        path = Path(file_path)
        if not await anyio.Path(path).is_file():
            raise ConfigurationError(f"file to upload does not exist or is not a file: {str(path)!r}")
        return await self.upload_object_via_stream(
            path, container, object_name, content_type=content_type, meta_data=meta_data
        )

    def download_object_as_stream(
        self, obj: Object, *, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream the whole object in chunks of ``chunk_size`` bytes (the last may be shorter)."""
        return self.download_object_range_as_stream(obj, 0, None, chunk_size=chunk_size)

    async def download_object(
        self,
        obj: Object,
        destination_path: str | Path,
        *,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Path:
        """Download an object to a file, atomically, and return the file's path.

        Data goes to a temporary file beside the destination and is renamed into place only once the
        size (and the MD5 hash, where the provider gives a plain one) checked out, so the destination never
        holds a torn object. A directory destination receives the object's base name.

        Args:
            obj: The object.
            destination_path: A file path, or an existing directory.
            overwrite_existing: Replace an existing file instead of raising ``DestinationExistsError``.
            delete_on_failure: When False, the partial data of a failed download is kept beside the
                destination as ``<name>.part`` (never under the final name) for inspection.
        """
        dest = await self._destination(obj, destination_path, overwrite_existing)
        return await self._download_to(
            self.download_object_as_stream(obj),
            dest,
            expected_size=obj.size,
            expected_md5=self._content_md5(obj),
            overwrite=overwrite_existing,
            keep_partial=not delete_on_failure,
        )

    async def download_object_range(
        self,
        obj: Object,
        destination_path: str | Path,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Path:
        """Download bytes ``[start_bytes, end_bytes)`` of an object to a file, atomically."""
        check_range(start_bytes, end_bytes, obj.size)
        dest = await self._destination(obj, destination_path, overwrite_existing)
        end = obj.size if end_bytes is None else end_bytes
        return await self._download_to(
            self.download_object_range_as_stream(obj, start_bytes, end_bytes),
            dest,
            expected_size=max(end - start_bytes, 0),
            expected_md5=None,
            overwrite=overwrite_existing,
            keep_partial=not delete_on_failure,
        )

    def _content_md5(self, obj: Object) -> str | None:
        """The object's content MD5 in hex when the provider's hash is one (not a multipart ETag)."""
        return None

    async def _destination(self, obj: Object, destination_path: str | Path, overwrite: bool) -> Path:
        dest = Path(os.path.expanduser(destination_path))  # noqa: ASYNC240 - string work, no I/O
        if await anyio.Path(dest).is_dir():
            dest = dest / Path(obj.name).name
        if not overwrite and await anyio.Path(dest).exists():
            raise DestinationExistsError(
                f"download destination {str(dest)!r} exists; pass overwrite_existing=True to replace it"
            )
        if not await anyio.Path(dest.parent).is_dir():  # checked before any request is made
            raise ConfigurationError(f"download destination directory {str(dest.parent)!r} does not exist")
        return dest

    async def _download_to(
        self,
        chunks: AsyncIterator[bytes],
        dest: Path,
        *,
        expected_size: int | None,
        expected_md5: str | None,
        overwrite: bool,
        keep_partial: bool,
    ) -> Path:
        hasher = StreamHasher("md5")

        def verify(size: int) -> None:
            if expected_md5 is not None and hasher.hexdigest("md5") != expected_md5.lower():
                raise IntegrityError(
                    f"download of {dest.name!r} failed its MD5 check "
                    f"(expected {expected_md5}, got {hasher.hexdigest('md5')})"
                )

        await write_stream_atomically(
            hashed(chunks, hasher) if expected_md5 else chunks,
            dest,
            overwrite=overwrite,
            expected_size=expected_size,
            check=verify,
            keep_partial=keep_partial,
        )
        return dest

    async def enable_container_cdn(self, container: Container) -> None:
        """Publish a container on the provider's CDN."""
        raise NotSupportedError(self.provider, Capability.CONTAINER_CDN)

    async def get_container_cdn_url(self, container: Container) -> str:
        """The public CDN URL of a container."""
        raise NotSupportedError(self.provider, Capability.CONTAINER_CDN)

    async def enable_object_cdn(self, obj: Object) -> None:
        """Publish an object on the provider's CDN."""
        raise NotSupportedError(self.provider, Capability.OBJECT_CDN)

    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str:
        """A URL for the object: public CDN, or signed with an expiry where the provider signs URLs."""
        raise NotSupportedError(self.provider, Capability.SIGNED_URLS)


class ComputeDriverBase(BaseDriver, abc.ABC):
    """Shared compute verbs; subclasses implement nodes, sizes, images and locations."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_verbs(cls, COMPUTE_CHECKS)  # argument checks before any request (drivers/_guards.py)

    @abc.abstractmethod
    def iterate_nodes(self) -> AsyncIterator[Node]: ...

    @abc.abstractmethod
    async def get_node(self, node_id: str) -> Node: ...

    @abc.abstractmethod
    def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]: ...

    @abc.abstractmethod
    def iterate_images(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeImage]: ...

    @abc.abstractmethod
    async def get_image(self, image_id: str) -> NodeImage: ...

    @abc.abstractmethod
    def iterate_locations(self) -> AsyncIterator[NodeLocation]: ...

    @abc.abstractmethod
    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
    ) -> Node: ...

    @abc.abstractmethod
    async def destroy_node(self, node: Node) -> None: ...

    async def list_nodes(self) -> list[Node]:
        """All nodes (collects :meth:`iterate_nodes`)."""
        return await collect(self.iterate_nodes())

    async def list_sizes(self, *, location: NodeLocation | None = None) -> list[NodeSize]:
        """All sizes (collects :meth:`iterate_sizes`)."""
        return await collect(self.iterate_sizes(location=location))

    async def list_images(self, *, location: NodeLocation | None = None) -> list[NodeImage]:
        """All images (collects :meth:`iterate_images`)."""
        return await collect(self.iterate_images(location=location))

    async def list_locations(self) -> list[NodeLocation]:
        """All locations (collects :meth:`iterate_locations`)."""
        return await collect(self.iterate_locations())

    async def reboot_node(self, node: Node) -> None:
        """Reboot a node."""
        raise NotSupportedError(self.provider, Capability.NODE_REBOOT)

    async def start_node(self, node: Node) -> None:
        """Start a stopped node."""
        raise NotSupportedError(self.provider, Capability.NODE_START_STOP)

    async def stop_node(self, node: Node) -> None:
        """Stop a node without destroying it."""
        raise NotSupportedError(self.provider, Capability.NODE_START_STOP)

    async def wait_until_running(
        self,
        nodes: Sequence[Node],
        *,
        wait_period: float = 5.0,
        timeout: float = 600.0,
        ssh_interface: str = "public_ips",
        force_ipv4: bool = True,
    ) -> list[tuple[Node, list[str]]]:
        """Wait until every node is running and has an address on ``ssh_interface``.

        Polls ``list_nodes`` (one request per round, whatever the number of nodes) without blocking the
        event loop. Returns ``(node, addresses)`` pairs in the order of ``nodes``.

        Raises:
            OperationTimeoutError: ``timeout`` seconds passed first.
            OperationFailedError: A node went into an error or terminated state.
        """
        if ssh_interface not in ("public_ips", "private_ips"):
            raise ConfigurationError(
                f"ssh_interface must be 'public_ips' or 'private_ips', got {ssh_interface!r}"
            )
        wanted = [n.id for n in nodes]

        def addresses(node: Node) -> list[str]:
            ips: list[str] = list(getattr(node, ssh_interface))
            return [ip for ip in ips if ":" not in ip] if force_ipv4 else ips

        async def fetch() -> dict[str, Node]:
            return {n.id: n for n in await self.list_nodes() if n.id in wanted}

        def ready(found: dict[str, Node]) -> bool:
            return all(
                i in found and found[i].state is NodeState.RUNNING and addresses(found[i]) for i in wanted
            )

        def failed(found: dict[str, Node]) -> str | None:
            bad = [
                f"{n.name} ({n.id}) is {n.state.value}"
                for n in found.values()
                if n.state in (NodeState.ERROR, NodeState.TERMINATED)
            ]
            return "; ".join(bad) or None

        found = await poll_until(
            fetch,
            ready,
            timeout=timeout,
            interval=wait_period,
            max_interval=wait_period,
            failed=failed,
            what=f"{len(wanted)} node(s) to be running",
        )
        return [(found[i], addresses(found[i])) for i in wanted]

    async def deploy_node(
        self,
        *,
        deploy: Deployment,
        ssh_username: str = "root",
        ssh_key: KeySource | Sequence[KeySource] | None = None,
        ssh_key_passphrase: str | None = None,
        ssh_agent: str | os.PathLike[str] | None = None,
        ssh_port: int = 22,
        ssh_timeout: float = 10.0,
        timeout: float = 600.0,
        max_tries: int = 10,
        ssh_interface: Literal["public_ips", "private_ips"] = "public_ips",
        known_hosts: str | os.PathLike[str] | None = None,
        host_key_policy: HostKeyPolicy | str = "known_hosts",
        wait_period: float = 5.0,
        **create_node_kwargs: Any,
    ) -> Node:
        """Create a node, wait until it runs, and run ``deploy`` on it over SSH (asyncio only).

        See :func:`asynccloud.deployment.deploy_node` for the arguments and failure semantics: a
        failure raises ``DeploymentError`` carrying the node, which is not destroyed.
        """
        # Imported here: the deployment package (and asyncssh behind it) loads only when used.
        from asynccloud.deployment import deploy_node

        return await deploy_node(
            self, deploy=deploy, ssh_username=ssh_username, ssh_key=ssh_key,
            ssh_key_passphrase=ssh_key_passphrase, ssh_agent=ssh_agent, ssh_port=ssh_port,
            ssh_timeout=ssh_timeout, timeout=timeout, max_tries=max_tries, ssh_interface=ssh_interface,
            known_hosts=known_hosts, host_key_policy=host_key_policy, wait_period=wait_period,
            **create_node_kwargs,
        )  # fmt: skip

    def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """Iterate over key pairs."""
        raise NotSupportedError(self.provider, Capability.KEY_PAIRS)

    async def list_key_pairs(self) -> list[KeyPair]:
        """All key pairs (collects :meth:`iterate_key_pairs`)."""
        return await collect(self.iterate_key_pairs())

    async def get_key_pair(self, name: str) -> KeyPair:
        """One key pair by name."""
        raise NotSupportedError(self.provider, Capability.KEY_PAIRS)

    async def create_key_pair(self, name: str) -> KeyPair:
        """Have the provider generate a key pair; the private key is in the result only."""
        raise NotSupportedError(self.provider, Capability.KEY_PAIR_CREATE)

    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Register a public key under ``name``."""
        raise NotSupportedError(self.provider, Capability.KEY_PAIRS)

    async def import_key_pair_from_file(self, name: str, key_file_path: str | Path) -> KeyPair:
        """Register the public key stored in a file (``~`` is expanded)."""
        path = anyio.Path(os.path.expanduser(key_file_path))  # noqa: ASYNC240 - string work, no I/O
        try:
            material = await path.read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read public key file {str(path)!r}: {exc.strerror}") from exc
        return await self.import_key_pair_from_string(name, material.strip())

    async def delete_key_pair(self, key_pair: KeyPair) -> None:
        """Delete a key pair."""
        raise NotSupportedError(self.provider, Capability.KEY_PAIRS)

    def iterate_volumes(self) -> AsyncIterator[StorageVolume]:
        """Iterate over block-storage volumes."""
        raise NotSupportedError(self.provider, Capability.VOLUMES)

    async def list_volumes(self) -> list[StorageVolume]:
        """All volumes (collects :meth:`iterate_volumes`)."""
        return await collect(self.iterate_volumes())

    async def create_volume(
        self,
        size: int,
        name: str,
        *,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | None = None,
    ) -> StorageVolume:
        """Create a volume of ``size`` GiB."""
        raise NotSupportedError(self.provider, Capability.VOLUMES)

    async def attach_volume(self, node: Node, volume: StorageVolume, device: str | None = None) -> None:
        """Attach a volume to a node."""
        raise NotSupportedError(self.provider, Capability.VOLUMES)

    async def detach_volume(self, volume: StorageVolume) -> None:
        """Detach a volume from its node."""
        raise NotSupportedError(self.provider, Capability.VOLUMES)

    async def destroy_volume(self, volume: StorageVolume) -> None:
        """Destroy a volume."""
        raise NotSupportedError(self.provider, Capability.VOLUMES)

    async def list_volume_snapshots(self, volume: StorageVolume) -> list[VolumeSnapshot]:
        """The snapshots of a volume."""
        raise NotSupportedError(self.provider, Capability.VOLUME_SNAPSHOTS)

    async def create_volume_snapshot(self, volume: StorageVolume, name: str | None = None) -> VolumeSnapshot:
        """Snapshot a volume."""
        raise NotSupportedError(self.provider, Capability.VOLUME_SNAPSHOTS)

    async def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> None:
        """Destroy a snapshot."""
        raise NotSupportedError(self.provider, Capability.VOLUME_SNAPSHOTS)


class DNSDriverBase(BaseDriver, abc.ABC):
    """Shared DNS verbs; subclasses implement zones and records."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_verbs(cls, DNS_CHECKS)  # argument checks before any request (drivers/_guards.py)

    record_types: tuple[RecordType, ...] = (
        RecordType.A,
        RecordType.AAAA,
        RecordType.CNAME,
        RecordType.MX,
        RecordType.NS,
        RecordType.SRV,
        RecordType.TXT,
    )

    @abc.abstractmethod
    def iterate_zones(self) -> AsyncIterator[Zone]: ...

    @abc.abstractmethod
    async def get_zone(self, zone_id: str) -> Zone: ...

    @abc.abstractmethod
    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone: ...

    @abc.abstractmethod
    async def delete_zone(self, zone: Zone) -> None: ...

    @abc.abstractmethod
    def iterate_records(self, zone: Zone) -> AsyncIterator[Record]: ...

    @abc.abstractmethod
    async def get_record(self, zone_id: str, record_id: str) -> Record: ...

    @abc.abstractmethod
    async def create_record(
        self,
        name: str,
        zone: Zone,
        type: RecordType | str,
        data: str,
        *,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record: ...

    @abc.abstractmethod
    async def update_record(
        self,
        record: Record,
        *,
        name: str | None = None,
        type: RecordType | str | None = None,
        data: str | None = None,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record: ...

    @abc.abstractmethod
    async def delete_record(self, record: Record) -> None: ...

    async def list_record_types(self) -> list[RecordType]:
        """The record types this provider accepts."""
        return list(self.record_types)

    async def list_zones(self) -> list[Zone]:
        """All zones (collects :meth:`iterate_zones`)."""
        return await collect(self.iterate_zones())

    async def list_records(self, zone: Zone) -> list[Record]:
        """All records of a zone (collects :meth:`iterate_records`)."""
        return await collect(self.iterate_records(zone))

    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone:
        """Change a zone's settings."""
        raise NotSupportedError(self.provider, Capability.ZONE_UPDATE)


guard_verbs(StorageDriverBase, STORAGE_CHECKS)
guard_verbs(ComputeDriverBase, COMPUTE_CHECKS)
guard_verbs(DNSDriverBase, DNS_CHECKS)


class LoadBalancerDriverBase(BaseDriver, abc.ABC):
    """Shared load-balancer verbs; subclasses implement balancers and members."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_verbs(cls, LB_CHECKS)  # argument checks before any request (drivers/_guards.py)

    @abc.abstractmethod
    async def list_protocols(self) -> list[str]: ...

    @abc.abstractmethod
    async def list_supported_algorithms(self) -> list[Algorithm]: ...

    @abc.abstractmethod
    def iterate_balancers(self) -> AsyncIterator[LoadBalancer]: ...

    @abc.abstractmethod
    async def get_balancer(self, balancer_id: str) -> LoadBalancer: ...

    @abc.abstractmethod
    async def create_balancer(
        self,
        name: str,
        port: int,
        protocol: str,
        algorithm: Algorithm,
        members: Sequence[Member],
    ) -> LoadBalancer: ...

    @abc.abstractmethod
    async def destroy_balancer(self, balancer: LoadBalancer) -> None: ...

    @abc.abstractmethod
    async def balancer_attach_member(self, balancer: LoadBalancer, member: Member) -> Member: ...

    @abc.abstractmethod
    async def balancer_detach_member(self, balancer: LoadBalancer, member: Member) -> None: ...

    @abc.abstractmethod
    async def balancer_list_members(self, balancer: LoadBalancer) -> list[Member]: ...

    async def list_balancers(self) -> list[LoadBalancer]:
        """All balancers (collects :meth:`iterate_balancers`)."""
        return await collect(self.iterate_balancers())

    async def balancer_attach_compute_node(self, balancer: LoadBalancer, node: Node) -> Member:
        """Add a node as a member, by its first private address (else public), on the balancer's port."""
        ips = node.private_ips or node.public_ips
        if not ips:
            raise ConfigurationError(f"node {node.name!r} ({node.id}) has no IP address to balance to")
        return await self.balancer_attach_member(balancer, Member(ip=ips[0], port=balancer.port))


guard_verbs(LoadBalancerDriverBase, LB_CHECKS)
