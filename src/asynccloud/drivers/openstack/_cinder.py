"""Block storage for the Nova driver: Cinder v3 volumes and snapshots, attached through Nova.

Volumes live in Cinder (catalog type ``volumev3`` by default, ``volume_service_type=`` to change it);
attaching and detaching go through Nova's ``/servers/{id}/os-volume_attachments`` so that the hypervisor
sees the disk. Listings follow ``volumes_links`` / ``snapshots_links`` to the end.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from asynccloud._capability import Capability
from asynccloud._json import json_object, objects, optional, require
from asynccloud._pagination import collect, link_pages, next_link
from asynccloud.drivers._kinds import ComputeDriverBase
from asynccloud.drivers._unreadable import wrap_unreadable_verbs
from asynccloud.drivers.openstack._nova_parse import relink, to_snapshot, to_volume
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from asynccloud._http import HttpClient
    from asynccloud.models import Node, NodeLocation, StorageVolume, VolumeSnapshot

__all__ = ["CinderVolumes"]


def _q(value: str) -> str:
    return quote(value, safe="")


class CinderVolumes(ComputeDriverBase, abc.ABC):
    """The volume verbs of :class:`~asynccloud.drivers.openstack.nova.OpenStackNodeDriver`."""

    _http: HttpClient
    _page_size: int | None

    @abc.abstractmethod
    async def _volume_url(self) -> str:
        """Cinder's base URL (``NotSupportedError`` when the cloud has none)."""

    @abc.abstractmethod
    async def _nova_url(self) -> str:
        """Nova's base URL."""

    @abc.abstractmethod
    def _nova_headers(self) -> Mapping[str, str]:
        """Headers of every Nova request (microversion)."""

    def _pages(self, first: str, key: str) -> AsyncIterator[dict[str, Any]]:
        async def fetch(url: str) -> tuple[list[dict[str, Any]], str | None]:
            body = json_object(await self._http.request("GET", url))
            items = objects(body, key)
            return items, relink(first, next_link(optional(body, f"{key}_links", list))) if items else None

        return link_pages(fetch, first, provider=self.provider)

    def _first(self, url: str, **params: Any) -> str:
        if self._page_size is not None:
            params["limit"] = self._page_size
        return str(httpx.URL(url, params={k: v for k, v in params.items() if v is not None}))

    async def iterate_volumes(self) -> AsyncIterator[StorageVolume]:
        """Every volume of the project (``GET /volumes/detail``, all pages)."""
        self._require(Capability.VOLUMES)
        first = self._first(f"{await self._volume_url()}/volumes/detail")
        async for raw in self._pages(first, "volumes"):
            yield self.bind(to_volume(raw))

    async def ex_get_volume(self, volume_id: str) -> StorageVolume:
        """One volume by id (``VolumeNotFoundError`` when there is none)."""
        self._require(Capability.VOLUMES)
        url = f"{await self._volume_url()}/volumes/{_q(volume_id)}"
        return self.bind(
            to_volume(require(json_object(await self._http.request("GET", url)), "volume", dict))
        )

    async def create_volume(
        self,
        size: int,
        name: str,
        *,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | None = None,
        ex_volume_type: str | None = None,
        ex_description: str | None = None,
        ex_metadata: Mapping[str, str] | None = None,
    ) -> StorageVolume:
        """Create a volume of ``size`` GiB (``POST /volumes``); it starts in state ``CREATING``.

        Args:
            size: Size in GiB.
            name: The volume's name.
            location: Availability zone (a location from :meth:`list_locations`).
            snapshot: Create the volume from this snapshot.
            ex_volume_type: Cinder volume type.
            ex_description: Free text.
            ex_metadata: Key/value metadata.
        """
        self._require(Capability.VOLUMES)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"size must be a positive number of GiB, got {size!r}")
        body: dict[str, Any] = {"size": size, "name": name}
        optional = {
            "availability_zone": location.id if location is not None else None,
            "snapshot_id": snapshot.id if snapshot is not None else None,
            "volume_type": ex_volume_type,
            "description": ex_description,
            "metadata": dict(ex_metadata) if ex_metadata else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        url = f"{await self._volume_url()}/volumes"
        response = await self._http.request("POST", url, json={"volume": body})
        return self.bind(to_volume(require(json_object(response), "volume", dict)))

    async def attach_volume(self, node: Node, volume: StorageVolume, device: str | None = None) -> None:
        """Attach a volume to a node through Nova (``device`` like ``/dev/vdb``; ``None``: Nova picks)."""
        self._require(Capability.VOLUMES)
        attachment: dict[str, Any] = {"volumeId": volume.id}
        if device:
            attachment["device"] = device
        url = f"{await self._nova_url()}/servers/{_q(node.id)}/os-volume_attachments"
        await self._http.request(
            "POST", url, json={"volumeAttachment": attachment}, headers=self._nova_headers()
        )

    async def detach_volume(self, volume: StorageVolume) -> None:
        """Detach a volume from every server it is attached to (read from Cinder when not known).

        Raises:
            ConfigurationError: The volume is not attached.
        """
        self._require(Capability.VOLUMES)
        attachments = volume.extra.get("attachments")
        if not attachments:
            attachments = (await self.ex_get_volume(volume.id)).extra.get("attachments") or []
        servers = [a["server_id"] for a in attachments if isinstance(a, dict) and a.get("server_id")]
        if not servers:
            raise ConfigurationError(f"volume {volume.id!r} is not attached to a node")
        base = await self._nova_url()
        for server in dict.fromkeys(servers):
            url = f"{base}/servers/{_q(server)}/os-volume_attachments/{_q(volume.id)}"
            await self._http.request("DELETE", url, headers=self._nova_headers())

    async def destroy_volume(self, volume: StorageVolume) -> None:
        """Delete a volume (``DELETE /volumes/{id}``; Cinder deletes it asynchronously)."""
        self._require(Capability.VOLUMES)
        await self._http.request("DELETE", f"{await self._volume_url()}/volumes/{_q(volume.id)}")

    async def list_volume_snapshots(self, volume: StorageVolume) -> list[VolumeSnapshot]:
        """The snapshots of a volume (``GET /snapshots/detail?volume_id=``, all pages)."""
        self._require(Capability.VOLUME_SNAPSHOTS)
        first = self._first(f"{await self._volume_url()}/snapshots/detail", volume_id=volume.id)
        raws = await collect(self._pages(first, "snapshots"))
        return [self.bind(to_snapshot(raw)) for raw in raws if raw.get("volume_id") in (None, volume.id)]

    async def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None, *, ex_force: bool = False
    ) -> VolumeSnapshot:
        """Snapshot a volume (``POST /snapshots``); ``ex_force=True`` snapshots an attached volume."""
        self._require(Capability.VOLUME_SNAPSHOTS)
        body: dict[str, Any] = {"volume_id": volume.id, "force": ex_force}
        if name is not None:
            body["name"] = name
        url = f"{await self._volume_url()}/snapshots"
        response = await self._http.request("POST", url, json={"snapshot": body})
        return self.bind(to_snapshot(require(json_object(response), "snapshot", dict)))

    async def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> None:
        """Delete a snapshot (``DELETE /snapshots/{id}``)."""
        self._require(Capability.VOLUME_SNAPSHOTS)
        await self._http.request("DELETE", f"{await self._volume_url()}/snapshots/{_q(snapshot.id)}")


# A mixin, not an HttpDriverBase: its verbs get the unreadable-answer guard here, for every driver using it.
wrap_unreadable_verbs(CinderVolumes)
