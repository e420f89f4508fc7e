"""Object-storage models: containers (buckets) and the objects in them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from asynccloud.models._base import CloudModel

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from pathlib import Path

    from asynccloud._streams import UploadSource
    from asynccloud.drivers.base import StorageDriver

__all__ = ["Container", "Object"]


class _StorageModel(CloudModel):
    def _storage(self) -> StorageDriver:
        return cast("StorageDriver", self._require_driver())


class Container(_StorageModel):
    """A container of objects (an S3 bucket, a Swift container, a directory of the local driver)."""

    name: str
    extra: dict[str, Any] = Field(default_factory=dict)

    def iterate_objects(self, *, prefix: str | None = None) -> AsyncIterator[Object]:
        """Iterate over the objects in this container (``driver.iterate_container_objects``)."""
        return self._storage().iterate_container_objects(self, prefix=prefix)

    async def list_objects(self, *, prefix: str | None = None) -> list[Object]:
        """List the objects in this container (``driver.list_container_objects``)."""
        return await self._storage().list_container_objects(self, prefix=prefix)

    async def get_object(self, object_name: str) -> Object:
        """Fetch one object's metadata (``driver.get_object``)."""
        return await self._storage().get_object(self.name, object_name)

    async def upload_object(
        self,
        file_path: str | Path,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object:
        """Upload a local file into this container (``driver.upload_object``)."""
        return await self._storage().upload_object(
            file_path, self, object_name, content_type=content_type, meta_data=meta_data
        )

    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object:
        """Upload bytes, a file, or a sync/async iterable of bytes (``driver.upload_object_via_stream``)."""
        return await self._storage().upload_object_via_stream(
            iterator, self, object_name, content_type=content_type, meta_data=meta_data
        )

    async def delete(self) -> None:
        """Delete this (empty) container (``driver.delete_container``)."""
        await self._storage().delete_container(self)

    async def enable_cdn(self) -> None:
        """Publish this container on the provider's CDN (``driver.enable_container_cdn``)."""
        await self._storage().enable_container_cdn(self)

    async def get_cdn_url(self) -> str:
        """The container's public CDN URL (``driver.get_container_cdn_url``)."""
        return await self._storage().get_container_cdn_url(self)


class Object(_StorageModel):
    """An object (blob, key, file) in a container."""

    name: str
    size: int = Field(ge=0, description="Size in bytes.")
    hash: str | None = Field(default=None, description="The provider's content hash (MD5 hex or ETag).")
    content_type: str | None = None
    meta_data: dict[str, str] = Field(default_factory=dict)
    container_name: str
    last_modified: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def as_stream(self, *, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Stream this object's bytes (``driver.download_object_as_stream``)."""
        return self._storage().download_object_as_stream(self, chunk_size=chunk_size)

    def range_as_stream(
        self, start_bytes: int, end_bytes: int | None = None, *, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start_bytes, end_bytes)`` (``driver.download_object_range_as_stream``)."""
        return self._storage().download_object_range_as_stream(
            self, start_bytes, end_bytes, chunk_size=chunk_size
        )

    async def download(
        self,
        destination_path: str | Path,
        *,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Path:
        """Download to a local path and return it (``driver.download_object``)."""
        return await self._storage().download_object(
            self,
            destination_path,
            overwrite_existing=overwrite_existing,
            delete_on_failure=delete_on_failure,
        )

    async def delete(self) -> None:
        """Delete this object (``driver.delete_object``)."""
        await self._storage().delete_object(self)

    async def enable_cdn(self) -> None:
        """Publish this object on the provider's CDN (``driver.enable_object_cdn``)."""
        await self._storage().enable_object_cdn(self)

    async def get_cdn_url(self, *, expires: int = 3600, method: str = "GET") -> str:
        """A URL for this object, signed where the provider signs them (``driver.get_object_cdn_url``)."""
        return await self._storage().get_object_cdn_url(self, expires=expires, method=method)
