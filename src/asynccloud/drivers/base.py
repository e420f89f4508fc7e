"""The portable driver contracts: capabilities, the four protocols, and a small shared base class.

A driver satisfies :class:`ComputeDriver`, :class:`StorageDriver`, :class:`DNSDriver` or
:class:`LoadBalancerDriver` structurally: a third-party driver needs to inherit nothing. Drivers shipped with
asynccloud inherit :class:`BaseDriver` (construction, ``async with``, ``aclose()``, ``capabilities``,
``supports()``, ``bind()``) and the per-kind bases in :mod:`asynccloud.drivers._kinds`, which derive the
``list_*`` verbs from the ``iterate_*`` primitives and raise :class:`~asynccloud.errors.NotSupportedError`
for the optional verbs a driver does not implement.

Listing verbs come in pairs: ``iterate_*`` is a plain method returning an async iterator (write it as an
async generator), and ``list_*`` is a coroutine collecting it. Streams (``download_object_as_stream``) are
async iterators too; break out early inside ``contextlib.aclosing(...)`` to release the connection at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

from asynccloud._capability import Capability
from asynccloud.errors import NotSupportedError
from asynccloud.models import (
    Algorithm,
    CloudModel,
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

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence
    from pathlib import Path
    from types import TracebackType

    from asynccloud._streams import UploadSource

__all__ = [
    "BaseDriver",
    "Capability",
    "ComputeDriver",
    "DNSDriver",
    "Driver",
    "LoadBalancerDriver",
    "StorageDriver",
]

M = TypeVar("M", bound=CloudModel)


@runtime_checkable
class Driver(Protocol):
    """What every driver has, whatever its kind."""

    provider: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    def __init__(self, key: Any = None, secret: str | None = None, /, **options: Any) -> None:
        """The portable constructor: ``Driver(key, secret=None, *, region=..., endpoint=..., ...)``."""

    def supports(self, capability: Capability) -> bool:
        """Whether this driver has ``capability`` (no request is made)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the driver is unusable afterwards."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class ComputeDriver(Driver, Protocol):
    """Servers and what they are made of: sizes, images, locations, key pairs, volumes."""

    def iterate_nodes(self) -> AsyncIterator[Node]: ...
    async def list_nodes(self) -> list[Node]: ...
    async def get_node(self, node_id: str) -> Node: ...
    def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]: ...
    async def list_sizes(self, *, location: NodeLocation | None = None) -> list[NodeSize]: ...
    def iterate_images(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeImage]: ...
    async def list_images(self, *, location: NodeLocation | None = None) -> list[NodeImage]: ...
    async def get_image(self, image_id: str) -> NodeImage: ...
    def iterate_locations(self) -> AsyncIterator[NodeLocation]: ...
    async def list_locations(self) -> list[NodeLocation]: ...
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
    async def reboot_node(self, node: Node) -> None: ...
    async def start_node(self, node: Node) -> None: ...
    async def stop_node(self, node: Node) -> None: ...
    async def destroy_node(self, node: Node) -> None: ...
    async def wait_until_running(
        self,
        nodes: Sequence[Node],
        *,
        wait_period: float = 5.0,
        timeout: float = 600.0,
        ssh_interface: str = "public_ips",
        force_ipv4: bool = True,
    ) -> list[tuple[Node, list[str]]]: ...
    def iterate_key_pairs(self) -> AsyncIterator[KeyPair]: ...
    async def list_key_pairs(self) -> list[KeyPair]: ...
    async def get_key_pair(self, name: str) -> KeyPair: ...
    async def create_key_pair(self, name: str) -> KeyPair: ...
    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair: ...
    async def import_key_pair_from_file(self, name: str, key_file_path: str | Path) -> KeyPair: ...
    async def delete_key_pair(self, key_pair: KeyPair) -> None: ...
    def iterate_volumes(self) -> AsyncIterator[StorageVolume]: ...
    async def list_volumes(self) -> list[StorageVolume]: ...
    async def create_volume(
        self,
        size: int,
        name: str,
        *,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | None = None,
    ) -> StorageVolume: ...
    async def attach_volume(self, node: Node, volume: StorageVolume, device: str | None = None) -> None: ...
    async def detach_volume(self, volume: StorageVolume) -> None: ...
    async def destroy_volume(self, volume: StorageVolume) -> None: ...
    async def list_volume_snapshots(self, volume: StorageVolume) -> list[VolumeSnapshot]: ...
    async def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None
    ) -> VolumeSnapshot: ...
    async def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> None: ...


@runtime_checkable
class StorageDriver(Driver, Protocol):
    """Containers (buckets) of objects, streamed both ways."""

    def iterate_containers(self) -> AsyncIterator[Container]: ...
    async def list_containers(self) -> list[Container]: ...
    async def get_container(self, container_name: str) -> Container: ...
    async def create_container(self, container_name: str) -> Container: ...
    async def delete_container(self, container: Container) -> None: ...
    def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]: ...
    async def list_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> list[Object]: ...
    async def get_object(self, container_name: str, object_name: str) -> Object: ...
    async def upload_object(
        self,
        file_path: str | Path,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
        verify_hash: bool = True,
    ) -> Object: ...
    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object: ...
    async def download_object(
        self,
        obj: Object,
        destination_path: str | Path,
        *,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Path: ...
    def download_object_as_stream(
        self, obj: Object, *, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]: ...
    async def download_object_range(
        self,
        obj: Object,
        destination_path: str | Path,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Path: ...
    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]: ...
    async def delete_object(self, obj: Object) -> None: ...
    async def enable_container_cdn(self, container: Container) -> None: ...
    async def get_container_cdn_url(self, container: Container) -> str: ...
    async def enable_object_cdn(self, obj: Object) -> None: ...
    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str: ...


@runtime_checkable
class DNSDriver(Driver, Protocol):
    """Zones and the records in them."""

    async def list_record_types(self) -> list[RecordType]: ...
    def iterate_zones(self) -> AsyncIterator[Zone]: ...
    async def list_zones(self) -> list[Zone]: ...
    async def get_zone(self, zone_id: str) -> Zone: ...
    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone: ...
    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone: ...
    async def delete_zone(self, zone: Zone) -> None: ...
    def iterate_records(self, zone: Zone) -> AsyncIterator[Record]: ...
    async def list_records(self, zone: Zone) -> list[Record]: ...
    async def get_record(self, zone_id: str, record_id: str) -> Record: ...
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
    async def delete_record(self, record: Record) -> None: ...


@runtime_checkable
class LoadBalancerDriver(Driver, Protocol):
    """Load balancers and their members."""

    async def list_protocols(self) -> list[str]: ...
    async def list_supported_algorithms(self) -> list[Algorithm]: ...
    def iterate_balancers(self) -> AsyncIterator[LoadBalancer]: ...
    async def list_balancers(self) -> list[LoadBalancer]: ...
    async def get_balancer(self, balancer_id: str) -> LoadBalancer: ...
    async def create_balancer(
        self,
        name: str,
        port: int,
        protocol: str,
        algorithm: Algorithm,
        members: Sequence[Member],
    ) -> LoadBalancer: ...
    async def destroy_balancer(self, balancer: LoadBalancer) -> None: ...
    async def balancer_attach_member(self, balancer: LoadBalancer, member: Member) -> Member: ...
    async def balancer_attach_compute_node(self, balancer: LoadBalancer, node: Node) -> Member: ...
    async def balancer_detach_member(self, balancer: LoadBalancer, member: Member) -> None: ...
    async def balancer_list_members(self, balancer: LoadBalancer) -> list[Member]: ...


class BaseDriver:
    """Shared construction and life cycle for the drivers asynccloud ships.

    Subclasses set ``provider`` and ``capabilities`` and accept the portable constructor
    ``Driver(key, secret=None, *, region=None, endpoint=None, timeout=..., retry=..., http_client=None,
    **provider_options)``. Drivers hold credentials: they refuse to be pickled and their ``repr`` names
    only the provider and region.
    """

    provider: ClassVar[str] = "base"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    region: str | None = None
    _closed: bool = False

    def supports(self, capability: Capability) -> bool:
        """Whether this driver has ``capability`` (no request is made)."""
        return capability in self.capabilities

    def _require(self, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise NotSupportedError(self.provider, capability)

    def bind(self, model: M) -> M:
        """Attach this driver to ``model`` (e.g. one built by hand or unpickled) and return it."""
        return model._bind(self)

    async def aclose(self) -> None:
        """Release the driver's resources. Idempotent."""
        self._closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        region = f" region={self.region!r}" if self.region else ""
        return f"<{type(self).__name__} provider={self.provider!r}{region}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: drivers hold credentials and connections; "
            "pickle the models instead and re-attach them with driver.bind(model)"
        )
