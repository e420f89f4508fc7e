"""Azure Blob Storage driver (``Provider.AZURE_BLOBS``, storage): containers and block blobs.

* **Connecting**: ``AzureBlobsStorageDriver(account_name, account_key)`` talks to
  ``https://<account>.blob.core.windows.net``; ``endpoint=`` points elsewhere, path-style with the account in
  the path for the emulator (``http://127.0.0.1:10000/devstoreaccount1``). Requests are signed with Shared
  Key (:mod:`asynccloud.auth.azure_sharedkey`); the key never appears in reprs, logs or errors.
* **Containers**: names are 3-63 lower-case letters, digits and single hyphens. Azure deletes a container
  with everything in it, so ``delete_container`` first lists one blob and raises
  :class:`~asynccloud.errors.ContainerNotEmptyError` if there is any, as every storage driver does.
* **Uploads**: up to ``part_size`` bytes, one ``Put Blob`` with ``Content-MD5`` (Azure checks it and stores
  it); larger, ``Put Block`` for each part (``max_concurrency`` at once, each with its MD5) and
  ``Put Block List`` with the MD5 of the whole object, so ``Object.hash`` is the object's MD5 either way.
  Memory stays below ``part_size x (max_concurrency + 1)``. Blocks of a failed or cancelled upload are
  never committed: Azure keeps uncommitted blocks invisible and discards them after a week (there is no
  call to drop them sooner, and no blob appears).
* **Downloads** stream with ``chunk_size``; ranges are ``[start, end)``; a whole download is checked
  against the stored MD5 and every download against its announced length (``IntegrityError``).
* ``meta_data`` is ``x-ms-meta-*`` (keys must be C#-identifier-like: letters, digits, ``_``; Azure keeps
  them case-insensitively and they come back lower-cased); listings include it (``include=metadata``).
* ``get_object_cdn_url(obj, expires=, method="GET")`` returns a service SAS URL (read access; ``PUT`` gives
  create/write, ``DELETE`` delete).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Final, Unpack
from urllib.parse import quote

import httpx

from asynccloud._bodies import sliced
from asynccloud._capability import Capability
from asynccloud._pagination import token_pages
from asynccloud._streams import StreamHasher, hashed, iter_source
from asynccloud._transfers import first_part, upload_parts
from asynccloud.auth.azure_sharedkey import SharedKeyAuth
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import StorageDriverBase, check_range
from asynccloud.drivers._responses import abandon_response
from asynccloud.drivers.azure._blob_xml import (
    BlobEntry,
    block_list,
    md5_hex,
    parse_blobs,
    parse_containers,
    parse_http_date,
)
from asynccloud.drivers.azure._errors import AzureErrorPolicy
from asynccloud.errors import (
    ConfigurationError,
    ContainerNotEmptyError,
    IntegrityError,
    InvalidNameError,
    ObjectNotFoundError,
)
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from asynccloud._streams import UploadSource

__all__ = ["AzureBlobsStorageDriver"]

PROVIDER: Final = "azure"
_MIB: Final = 1024 * 1024
#: Azure's limits: a block is at most 4000 MiB, a blob has at most 50,000 blocks.
MAX_BLOCKS: Final = 50_000
_CONTAINER: Final = re.compile(r"\A(?=.{3,63}\Z)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]\Z")
_META_KEY: Final = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


def check_container_name(name: str) -> str:
    """``name`` if it is a valid Azure container name, else ``InvalidNameError``."""
    if not isinstance(name, str) or not _CONTAINER.match(name):
        raise InvalidNameError(
            f"container name {name!r} must be 3-63 lower-case letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


def check_blob_name(name: str) -> str:
    """``name`` if Azure accepts it as a blob name (1-1024 characters, no control characters)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 1024 or any(ord(c) < 32 for c in name):
        raise InvalidNameError(f"object name {name!r} must be 1-1024 characters without control characters")
    return name


def _meta_headers(meta_data: Mapping[str, str] | None) -> dict[str, str]:
    headers = {}
    for key, value in (meta_data or {}).items():
        if not isinstance(key, str) or not _META_KEY.match(key):
            raise ConfigurationError(
                f"meta_data key {key!r} must be letters, digits and '_' (a C# identifier)"
            )
        if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\x00"):
            raise ConfigurationError(f"meta_data[{key!r}] must be a printable ASCII string on one line")
        headers[f"x-ms-meta-{key}"] = value
    return headers


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


class AzureBlobsStorageDriver(HttpDriverBase, StorageDriverBase):
    """Azure Blob Storage (block blobs).

    Args:
        key: The storage account name.
        secret: The account key (base64).
        endpoint: The blob endpoint (default ``https://<account>.blob.core.windows.net``).
        part_size: Bytes per block, and the largest object sent in one ``Put Blob``.
        max_concurrency: Blocks uploaded at once.
        page_size: Containers or blobs per listing request (at most 5000).
        **options: HTTP options (``HttpOptions``).
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SIGNED_URLS,
            Capability.RANGE_DOWNLOADS,
            Capability.MULTIPART_UPLOADS,
            Capability.OBJECT_META_DATA,
        }
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        endpoint: str | None = None,
        part_size: int = 8 * _MIB,
        max_concurrency: int = 4,
        page_size: int = 1000,
        **options: Unpack[HttpOptions],
    ) -> None:
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9]{3,24}", key):
            raise ConfigurationError("the first argument must be the storage account name (3-24 a-z, 0-9)")
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("the second argument must be the storage account key")
        for name, value in (
            ("part_size", part_size),
            ("max_concurrency", max_concurrency),
            ("page_size", page_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive int, got {value!r}")
        if endpoint is not None and not (
            isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))
        ):
            raise ConfigurationError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.account_name = key
        self.endpoint = (endpoint or f"https://{key}.blob.core.windows.net").rstrip("/")
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self.page_size = min(page_size, 5000)  # the service's largest page
        self._auth = SharedKeyAuth(key, secret)
        self._http = self._open_http(
            HttpOptions(**options), auth=self._auth, error_policy=AzureErrorPolicy(), secrets=[secret]
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_name={self.account_name!r}, endpoint={self.endpoint!r})"

    def _container_url(self, name: str) -> str:
        return f"{self.endpoint}/{quote(check_container_name(name), safe='')}"

    def _blob_url(self, container: str, name: str) -> str:
        return f"{self._container_url(container)}/{quote(check_blob_name(name), safe='/~')}"

    # ------------------------------------------------------------------------------------------ containers

    def iterate_containers(self) -> AsyncIterator[Container]:
        """Every container of the account (``List Containers``, following ``NextMarker``)."""

        async def fetch(marker: str | None) -> tuple[list[Container], str | None]:
            params = {"comp": "list", "maxresults": str(self.page_size)}
            if marker:
                params["marker"] = marker
            response = await self._http.request("GET", f"{self.endpoint}/", params=params)
            names, following = parse_containers(response.content)
            return [self.bind(Container(name=n)) for n in names], following

        return token_pages(fetch, provider=self.provider)

    async def get_container(self, container_name: str) -> Container:
        """One container (``Get Container Properties``)."""
        response = await self._http.request(
            "HEAD", self._container_url(container_name), params={"restype": "container"}
        )
        extra = {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
        return self.bind(Container(name=container_name, extra=extra))

    async def create_container(self, container_name: str) -> Container:
        """Create a private container; ``ContainerAlreadyExistsError`` if it exists."""
        await self._http.request("PUT", self._container_url(container_name), params={"restype": "container"})
        return self.bind(Container(name=container_name))

    async def delete_container(self, container: Container) -> None:
        """Delete an empty container; ``ContainerNotEmptyError`` while it holds blobs."""
        page, _ = await self._list_blobs(container.name, None, None, 1)
        if page:
            raise ContainerNotEmptyError(
                f"container {container.name!r} is not empty", provider=self.provider, status=409
            )
        await self._http.request(
            "DELETE", self._container_url(container.name), params={"restype": "container"}
        )

    # --------------------------------------------------------------------------------------------- listing

    async def _list_blobs(
        self, container: str, prefix: str | None, marker: str | None, page_size: int
    ) -> tuple[list[BlobEntry], str | None]:
        params = {"restype": "container", "comp": "list", "include": "metadata", "maxresults": str(page_size)}
        if prefix:
            params["prefix"] = prefix
        if marker:
            params["marker"] = marker
        response = await self._http.request("GET", self._container_url(container), params=params)
        return parse_blobs(response.content)

    def _object(self, container: str, entry: BlobEntry) -> Object:
        return self.bind(
            Object(
                name=entry.name,
                size=entry.size,
                hash=entry.md5,
                content_type=entry.content_type,
                meta_data=entry.meta_data,
                container_name=container,
                last_modified=entry.last_modified,
                extra={"etag": entry.etag},
            )
        )

    def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """The blobs of a container in name order, with their metadata, following ``NextMarker``."""
        name = check_container_name(container.name)

        async def fetch(marker: str | None) -> tuple[list[Object], str | None]:
            entries, following = await self._list_blobs(name, prefix, marker, self.page_size)
            return [self._object(name, e) for e in entries], following

        return token_pages(fetch, provider=self.provider)

    async def get_object(self, container_name: str, object_name: str) -> Object:
        """One blob's properties and metadata (``Get Blob Properties``)."""
        response = await self._http.request("HEAD", self._blob_url(container_name, object_name))
        return self._from_headers(container_name, object_name, response.headers)

    def _from_headers(self, container: str, name: str, headers: httpx.Headers) -> Object:
        meta = {
            k[len("x-ms-meta-") :].lower(): v
            for k, v in headers.items()
            if k.lower().startswith("x-ms-meta-")
        }
        return self.bind(
            Object(
                name=name,
                size=int(headers.get("content-length", "0")),
                hash=md5_hex(headers.get("content-md5")),
                content_type=headers.get("content-type"),
                meta_data=meta,
                container_name=container,
                last_modified=parse_http_date(headers.get("last-modified")),
                extra={"etag": headers.get("etag"), "blob_type": headers.get("x-ms-blob-type")},
            )
        )

    # --------------------------------------------------------------------------------------------- uploads

    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object:
        """Upload from bytes, a path, a binary file, or a sync/async iterable of bytes.

        Up to ``part_size`` bytes: one ``Put Blob``; more: blocks in parallel, then the block list.
        """
        url = self._blob_url(container.name, object_name)
        headers = {
            "x-ms-blob-content-type": content_type or "application/octet-stream",
            **_meta_headers(meta_data),
        }
        parts = iter_source(iterator, self.part_size)
        try:
            head = await first_part(parts)
            try:
                if not head.more:
                    md5 = hashlib.md5(head.data, usedforsecurity=False).digest()
                    put_headers = {
                        **headers,
                        "x-ms-blob-type": "BlockBlob",
                        "Content-MD5": _b64(md5),
                        "Content-Length": str(len(head.data)),
                    }
                    response = await self._http.request(
                        "PUT", url, content=sliced(head.data), headers=put_headers
                    )
                    size = len(head.data)
                else:
                    response, size, md5 = await self._put_blocks(url, head.data, head.rest, headers)
            finally:
                await head.rest.aclose()  # type: ignore[attr-defined]
        finally:
            await parts.aclose()
        return self.bind(
            Object(
                name=object_name,
                size=size,
                hash=md5.hex(),
                content_type=headers["x-ms-blob-content-type"],
                meta_data={k.lower(): v for k, v in (meta_data or {}).items()},
                container_name=container.name,
                last_modified=parse_http_date(response.headers.get("last-modified")),
                extra={"etag": response.headers.get("etag")},
            )
        )

    async def _put_blocks(
        self, url: str, first: bytes, rest: AsyncIterator[bytes], headers: dict[str, str]
    ) -> tuple[httpx.Response, int, bytes]:
        prefix = secrets.token_hex(8)
        hasher = StreamHasher("md5")

        async def all_parts() -> AsyncIterator[bytes]:
            yield first
            async for part in rest:
                yield part

        async def put_block(number: int, data: bytes) -> str:
            if number > MAX_BLOCKS:
                raise ConfigurationError(f"the object needs more than {MAX_BLOCKS} blocks; raise part_size")
            block_id = _b64(f"{prefix}-{number:06d}".encode())
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            await self._http.request(
                "PUT",
                url,
                params={"comp": "block", "blockid": block_id},
                content=sliced(data),
                headers={"Content-MD5": _b64(md5), "Content-Length": str(len(data))},
            )
            return block_id

        ids = await upload_parts(hashed(all_parts(), hasher), put_block, max_concurrency=self.max_concurrency)
        md5 = hasher.digest("md5")
        response = await self._http.request(
            "PUT",
            url,
            params={"comp": "blocklist"},
            content=block_list(ids),
            headers={**headers, "x-ms-blob-content-md5": _b64(md5), "Content-Type": "application/xml"},
        )
        return response, hasher.size, md5

    # ------------------------------------------------------------------------------------------- downloads

    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start_bytes, end_bytes)`` (``None``: to the end) in ``chunk_size`` chunks.

        Raises (while iterating):
            ObjectNotFoundError: The blob does not exist.
            IntegrityError: The body was shorter than announced, or a whole blob failed its MD5 check.
        """
        check_range(start_bytes, end_bytes)
        size = self.default_chunk_size if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"chunk_size must be a positive int, got {size!r}")
        return self._download(obj.container_name, obj.name, start_bytes, end_bytes, size)

    async def _download(
        self, container: str, name: str, start: int, end: int | None, chunk_size: int
    ) -> AsyncIterator[bytes]:
        url = self._blob_url(container, name)
        ranged = start > 0 or end is not None
        if end is not None and end <= start:
            return  # an empty window: nothing to fetch
        headers = {"x-ms-range": f"bytes={start}-{'' if end is None else end - 1}"} if ranged else {}
        async with self._http.stream("GET", url, headers=headers) as response:
            announced = int(response.headers.get("content-length", "-1"))
            expected_md5 = None if ranged else md5_hex(response.headers.get("content-md5"))
            hasher = hashlib.md5(usedforsecurity=False) if expected_md5 else None
            received = 0
            buffer = bytearray()
            raw = response.aiter_raw()
            finished = False
            try:
                async for piece in raw:
                    received += len(piece)
                    if hasher is not None:
                        hasher.update(piece)
                    buffer += piece
                    while len(buffer) >= chunk_size:
                        yield bytes(buffer[:chunk_size])
                        del buffer[:chunk_size]
                finished = True
            except httpx.RemoteProtocolError as exc:
                finished = True
                raise IntegrityError(f"download of {name!r} was cut short after {received} bytes") from exc
            finally:
                if not finished:  # the caller stopped early, or was cancelled
                    await abandon_response(response, raw)
            if announced >= 0 and received != announced:
                raise IntegrityError(f"download of {name!r} got {received} bytes, expected {announced}")
            if hasher is not None and hasher.hexdigest() != expected_md5:
                raise IntegrityError(f"download of {name!r} failed its MD5 check")
            if buffer:
                yield bytes(buffer)

    # --------------------------------------------------------------------------------------------- deletes

    async def delete_object(self, obj: Object) -> None:
        """Delete a blob; ``ObjectNotFoundError`` if it does not exist (unless a lost answer deleted it)."""
        try:
            await self._http.request("DELETE", self._blob_url(obj.container_name, obj.name))
        except ObjectNotFoundError as error:
            if not error.earlier_attempt_may_have_acted:
                raise

    # ----------------------------------------------------------------------------------------- signed URLs

    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str:
        """A service SAS URL for the blob, valid ``expires`` seconds: read for GET/HEAD, write for PUT,
        delete for DELETE."""
        permissions = {"GET": "r", "HEAD": "r", "PUT": "cw", "DELETE": "d"}.get(method.upper())
        if permissions is None:
            raise ConfigurationError(f"method must be GET, HEAD, PUT or DELETE, got {method!r}")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < 1:
            raise ConfigurationError(f"expires must be a positive number of seconds, got {expires!r}")
        container, name = check_container_name(obj.container_name), check_blob_name(obj.name)
        expiry = datetime.now(UTC) + timedelta(seconds=expires)
        query = self._auth.blob_sas(container, name, permissions=permissions, expiry=expiry)
        return f"{self._blob_url(container, name)}?{query}"
