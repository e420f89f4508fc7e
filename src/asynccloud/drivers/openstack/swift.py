"""OpenStack Swift object storage (``Provider.OPENSTACK``), on any Keystone v3/v2.0 or tempauth v1.0 identity.

Every portable storage verb, plus:

* listings (``format=json``) follow ``marker`` (with ``prefix``) to the end, account listing included;
* uploads stream: a source that fits in one part (``part_size``, 8 MiB by default) is one ``PUT`` with its MD5
  as ``ETag`` (Swift refuses a corrupted body with 422: :class:`~asynccloud.errors.IntegrityError`); a larger
  one becomes a static large object (see :mod:`._slo`): segments uploaded ``max_concurrency`` at a time into
  ``<container>_segments`` (``segment_container=``), manifest last, segments deleted on failure or cancel;
* downloads stream with ``chunk_size``, ranges are ``[start, end)``; a body shorter than announced raises
  :class:`~asynccloud.errors.IntegrityError`;
* ``meta_data`` is ``X-Object-Meta-*`` (keys come back lower-cased);
* ``get_object_cdn_url`` returns a temp URL (HMAC, ``temp_url_key=`` or the account's ``Temp-URL-Key``);
  ``ex_set_account_metadata_temp_url_key`` sets the account key.

Usage::

    Storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    async with Storage("test:tester", "testing", auth_url="http://127.0.0.1:8080/auth/v1.0") as swift:
        box = await swift.create_container("box")
        await box.upload_object_via_stream(b"hello", "greeting.txt")
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Unpack

import httpx

from asynccloud._capability import Capability
from asynccloud._http import EARLIER_ATTEMPT_MAY_HAVE_ACTED
from asynccloud._json import MalformedJson, decode, json_object, optional, require
from asynccloud._pagination import marker_pages
from asynccloud._streams import iter_source, source_length
from asynccloud._transfers import first_part
from asynccloud.drivers._kinds import StorageDriverBase, check_range
from asynccloud.drivers.openstack._common import OpenStackDriverBase, OpenStackOptions
from asynccloud.drivers.openstack._names import (
    check_container_name,
    check_object_name,
    quote_container,
    quote_object,
)
from asynccloud.drivers.openstack._slo import SloUpload
from asynccloud.drivers.openstack._swift_errors import SwiftErrorPolicy, Target
from asynccloud.drivers.openstack._swift_http import (
    abandon_response,
    chain_parts,
    guess_type,
    http_time,
    listing_time,
    object_headers,
    to_int,
)
from asynccloud.drivers.openstack._tempurl import DIGESTS, METHODS, temp_url
from asynccloud.errors import (
    ConfigurationError,
    ContainerAlreadyExistsError,
    IntegrityError,
    NotFoundError,
    ObjectNotFoundError,
    ProviderError,
)
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from asynccloud._streams import UploadSource

__all__ = ["DEFAULT_PART_SIZE", "SwiftStorageDriver"]

DEFAULT_PART_SIZE = 8 << 20
_MIB = 1 << 20
_META = "x-object-meta-"
_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(?:\d+|\*)\s*")
_HEX_MD5 = re.compile(r"^[0-9a-f]{32}$")
_Item = TypeVar("_Item", Container, Object)


class SwiftStorageDriver(OpenStackDriverBase, StorageDriverBase):
    """OpenStack Swift.

    Args:
        key: User name (Keystone), ``account:user`` (tempauth), or application credential id.
        secret: Password, key, or application credential secret.
        temp_url_key: The account's ``Temp-URL-Key`` for :meth:`get_object_cdn_url`; when omitted it is read
            from the account's metadata on first use.
        temp_url_digest: ``"sha256"`` (default), ``"sha512"`` or ``"sha1"``.
        segment_container: Container for large-object segments; ``{container}`` is replaced by the object's
            container name (default ``"{container}_segments"``).
        part_size: Segment size of large uploads (and the single-``PUT`` threshold). Swift's
            ``min_segment_size`` (1 MiB by default) applies to all segments but the last; a source of known
            size that would need more than 1000 segments gets larger ones.
        max_concurrency: Segments uploaded at once.
        chunk_size: Default chunk size of downloads.
        page_size: Listing page size (at most the cluster's ``container_listing_limit``, 10000 by default).
        **options: Identity, endpoint and HTTP options (``OpenStackOptions``:
            ``auth_url=``, ``auth_version=``, ``tenant_name=``, ``region=``, ``endpoint=``, ``auth=``, ...).
    """

    provider: ClassVar[str] = "openstack"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.RANGE_DOWNLOADS,
            Capability.OBJECT_META_DATA,
            Capability.MULTIPART_UPLOADS,
            Capability.SIGNED_URLS,
        }
    )
    default_service_type: ClassVar[str] = "object-store"
    #: Digest of temp URL signatures unless ``temp_url_digest=`` says otherwise.
    default_temp_url_digest: ClassVar[str] = "sha256"
    #: Swift's default ``max_manifest_segments``.
    max_segments: ClassVar[int] = 1000

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        temp_url_key: str | None = None,
        temp_url_digest: str | None = None,
        segment_container: str = "{container}_segments",
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = 4,
        chunk_size: int = 1 << 20,
        page_size: int = 10_000,
        **options: Unpack[OpenStackOptions],
    ) -> None:
        for name, value in (("part_size", part_size), ("max_concurrency", max_concurrency),
                            ("chunk_size", chunk_size), ("page_size", page_size)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive int, got {value!r}")
        digest = temp_url_digest or self.default_temp_url_digest
        if digest not in DIGESTS:
            raise ConfigurationError(f"temp_url_digest must be one of {', '.join(DIGESTS)}; got {digest!r}")
        if not segment_container or "/" in segment_container.replace("{container}", "c"):
            raise ConfigurationError(
                f"segment_container is not a valid container name: {segment_container!r}"
            )
        self._temp_url_key = temp_url_key
        self._temp_url_digest = digest
        self._segment_container = segment_container
        self._part_size = part_size
        self._max_concurrency = max_concurrency
        self.default_chunk_size = chunk_size
        self._page_size = page_size
        self._storage_path: str | None = None
        self._http = self._setup_openstack(
            key,
            secret,
            options,
            error_policy=SwiftErrorPolicy(self.provider, self._locate),
            headers={"Accept": "application/json"},
        )
        if temp_url_key:
            self._http.add_secrets(temp_url_key)

    # ------------------------------------------------------------------------------------------ URLs

    async def _account_url(self) -> str:
        url = await self._service_url()
        if self._storage_path is None:
            self._storage_path = httpx.URL(url).path.rstrip("/")
        return url

    async def _container_url(self, container: str) -> str:
        return f"{await self._account_url()}/{quote_container(container)}"

    async def _object_url(self, container: str, name: str) -> str:
        return f"{await self._container_url(container)}/{quote_object(name)}"

    def _locate(self, url: httpx.URL) -> Target | None:
        base = self._storage_path
        path = url.path
        if base is None or not (path == base or path.startswith(base + "/")):
            return None
        rest = path[len(base) :].lstrip("/")
        if not rest:
            return "account"
        return "object" if "/" in rest else "container"

    # ------------------------------------------------------------------------------------ containers

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """Every container of the account, in name order (follows ``marker`` to the end)."""
        url = await self._account_url()
        pages = marker_pages(
            lambda marker, limit: self._listing(
                url, marker, limit, "the account", self._container_from_listing
            ),
            key=lambda item: item[0],
            page_size=self._page_size,
            provider=self.provider,
        )
        async for _, container in pages:
            if container is not None:
                yield container

    async def get_container(self, container_name: str) -> Container:
        """A container, with ``extra`` ``object_count``, ``bytes_used`` and ``meta_data``."""
        response = await self._http.request(
            "HEAD", await self._container_url(check_container_name(container_name))
        )
        headers = response.headers
        meta = {
            k[len("x-container-meta-") :]: v for k, v in headers.items() if k.startswith("x-container-meta-")
        }
        extra: dict[str, Any] = {
            "object_count": to_int(headers.get("x-container-object-count")),
            "bytes_used": to_int(headers.get("x-container-bytes-used")),
            "meta_data": meta,
        }
        if headers.get("x-storage-policy"):
            extra["storage_policy"] = headers["x-storage-policy"]
        return Container(name=container_name, extra=extra)._bind(self)

    async def create_container(self, container_name: str) -> Container:
        """Create a container; ``ContainerAlreadyExistsError`` if it exists (Swift answers 202)."""
        response = await self._http.request(
            "PUT", await self._container_url(check_container_name(container_name))
        )
        if response.status_code == 202:
            raise ContainerAlreadyExistsError(
                f"container {container_name!r} already exists",
                provider=self.provider,
                status=202,
                code="ContainerAlreadyExists",
                request_id=self._http.error_policy.request_id(response),
            )
        return Container(name=container_name, extra={"object_count": 0, "bytes_used": 0})._bind(self)

    async def delete_container(self, container: Container) -> None:
        """Delete an empty container (``ContainerNotEmptyError`` otherwise).

        A ``404`` to a retry whose earlier attempt was sent but unanswered counts as done (that attempt
        deleted it); a ``404`` to the first attempt raises ``ContainerNotFoundError``.
        """
        await self._delete(await self._container_url(check_container_name(container.name)))

    async def _delete(self, url: str, **kwargs: Any) -> httpx.Response | None:
        """``DELETE url``; ``None`` when a retry was answered ``404`` after an earlier attempt may have acted.

        That attempt reached Swift and its answer was lost (or was a 5xx): it may have deleted the item, so
        "not found" now means done. A ``404`` to the first attempt is raised (``ObjectNotFoundError``, ...).
        """
        try:
            return await self._http.request("DELETE", url, **kwargs)
        except NotFoundError as exc:
            if not exc.earlier_attempt_may_have_acted:
                raise
            return None

    async def _listing(
        self,
        url: str,
        marker: str | None,
        limit: int,
        what: str,
        read: Callable[[Mapping[str, Any], str], _Item],
        prefix: str | None = None,
    ) -> list[tuple[str, _Item | None]]:
        """One listing page of ``what``: ``(marker, item)`` per entry (``None``: a pseudo-directory).

        An entry ``read`` cannot read raises ``ProviderError(code="MalformedListing")`` naming ``what`` and
        the entry's index: dropping it would hide an object (or a container) from the caller.
        """
        params: dict[str, str | int] = {"format": "json", "limit": limit}
        if marker is not None:
            params["marker"] = marker
        if prefix:
            params["prefix"] = prefix
        response = await self._http.request("GET", url, params=params)
        if response.status_code == 204 or not response.content:
            return []
        try:
            data = decode(response)
        except MalformedJson as exc:
            raise self._malformed_listing(
                f"the listing of {what} is not a JSON list ({exc})", response
            ) from None
        if not isinstance(data, list):
            raise self._malformed_listing(f"the listing of {what} is not a JSON list", response)
        items: list[tuple[str, _Item | None]] = []
        for index, entry in enumerate(data):
            where = f"entry {index}"
            try:
                if isinstance(entry, dict) and "name" not in entry and isinstance(entry.get("subdir"), str):
                    items.append((entry["subdir"], None))  # a pseudo-directory (delimiter listings)
                    continue
                if not isinstance(entry, dict):
                    raise MalformedJson(f"{where} is not an object")
                item = read(entry, where)
            except MalformedJson as exc:
                after = f" after {marker!r}" if marker is not None else ""
                raise self._malformed_listing(f"the listing of {what}{after}: {exc}", response) from None
            items.append((item.name, item))
        return items

    def _malformed_listing(self, message: str, response: httpx.Response) -> ProviderError:
        return ProviderError(
            message,
            provider=self.provider,
            status=response.status_code,
            code="MalformedListing",
            request_id=self._http.error_policy.request_id(response),
        )

    def _container_from_listing(self, entry: Mapping[str, Any], where: str) -> Container:
        extra: dict[str, Any] = {
            "object_count": _size(entry, "count", where),
            "bytes_used": _size(entry, "bytes", where),
        }
        last_modified = optional(entry, "last_modified", str, where)
        if last_modified:
            extra["last_modified"] = last_modified
        return Container(name=_name(entry, where), extra=extra)._bind(self)

    # --------------------------------------------------------------------------------------- objects

    async def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """Objects in name order, optionally only those under ``prefix``; follows ``marker`` to the end."""
        name = check_container_name(container.name)
        url = await self._container_url(name)

        def read(entry: Mapping[str, Any], where: str) -> Object:
            return self._object_from_listing(name, entry, where)

        pages = marker_pages(
            lambda marker, limit: self._listing(url, marker, limit, f"container {name!r}", read, prefix),
            key=lambda item: item[0],
            page_size=self._page_size,
            provider=self.provider,
        )
        async for _, obj in pages:
            if obj is not None:
                yield obj

    def _object_from_listing(self, container: str, entry: Mapping[str, Any], where: str) -> Object:
        slo_etag = optional(entry, "slo_etag", str, where)
        raw_hash = optional(entry, "hash", str, where)
        extra: dict[str, Any] = {"static_large_object": slo_etag is not None}
        if slo_etag is not None:
            extra["manifest_etag"] = raw_hash
            raw_hash = slo_etag
        return Object(
            name=_name(entry, where),
            size=_size(entry, "bytes", where),
            hash=raw_hash.strip('"') if raw_hash is not None else None,
            content_type=optional(entry, "content_type", str, where),
            container_name=container,
            last_modified=listing_time(optional(entry, "last_modified", str, where)),
            extra=extra,
        )._bind(self)

    async def get_object(self, container_name: str, object_name: str) -> Object:
        """An object's metadata (one ``HEAD``); ``ObjectNotFoundError`` if it does not exist."""
        url = await self._object_url(check_container_name(container_name), check_object_name(object_name))
        response = await self._http.request("HEAD", url)
        return self._object_from_headers(container_name, object_name, response.headers)

    def _object_from_headers(self, container: str, name: str, headers: httpx.Headers) -> Object:
        etag = headers.get("etag", "").strip('"') or None
        extra: dict[str, Any] = {
            "static_large_object": headers.get("x-static-large-object", "").lower() == "true",
        }
        for header, field in (("x-object-manifest", "object_manifest"), ("x-manifest-etag", "manifest_etag"),
                              ("x-timestamp", "timestamp"), ("x-delete-at", "delete_at")):  # fmt: skip
            if headers.get(header):
                extra[field] = headers[header]
        return Object(
            name=name,
            size=to_int(headers.get("content-length")),
            hash=etag,
            content_type=headers.get("content-type"),
            meta_data={k[len(_META) :]: v for k, v in headers.items() if k.startswith(_META)},
            container_name=container,
            last_modified=http_time(headers.get("last-modified")),
            extra=extra,
        )._bind(self)

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

        Up to ``part_size`` bytes: one ``PUT`` checked by MD5. More: a static large object (segments in
        parallel, manifest last; segments removed if anything fails or the call is cancelled). Memory
        stays below ``part_size x (max_concurrency + 1)``.
        """
        check_container_name(container.name)
        check_object_name(object_name)
        headers = object_headers(content_type or guess_type(object_name), meta_data)
        part_size = self._part_size_for(iterator)
        parts = iter_source(iterator, part_size)
        try:
            head = await first_part(parts)
            try:
                if not head.more:
                    return await self._put_object(container.name, object_name, head.data, headers)
                return await self._put_large_object(
                    container.name, object_name, head.data, head.rest, headers
                )
            finally:
                await head.rest.aclose()  # type: ignore[attr-defined]
        finally:
            await parts.aclose()

    def _part_size_for(self, source: UploadSource) -> int:
        try:
            size = source_length(source)
        except OSError:
            size = None
        if size is None or size <= self._part_size * self.max_segments:
            return self._part_size
        return math.ceil(size / self.max_segments / _MIB) * _MIB

    async def _put_object(self, container: str, name: str, data: bytes, headers: dict[str, str]) -> Object:
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        url = await self._object_url(container, name)
        response = await self._http.request(
            "PUT", url, content=data, headers={**headers, "ETag": md5}, ok={422}
        )
        etag = response.headers.get("etag", "").strip('"')
        if response.status_code == 422 or (etag and etag != md5):
            raise IntegrityError(
                f"upload of {name!r} to {container!r} failed its MD5 check (data changed in transit)"
            )
        return self._uploaded(
            container, name, len(data), md5, headers, response, {"static_large_object": False}
        )

    async def _put_large_object(
        self, container: str, name: str, first: bytes, rest: AsyncIterator[bytes], headers: dict[str, str]
    ) -> Object:
        account = await self._account_url()
        upload = SloUpload(
            self._http,
            account,
            self._segment_container.replace("{container}", container),
            name,
            max_concurrency=self._max_concurrency,
            max_segments=self.max_segments,
            provider=self.provider,
        )
        response, segments = await upload.run(
            chain_parts(first, rest), await self._object_url(container, name), headers
        )
        extra = {
            "static_large_object": True,
            "segments": len(segments),
            "content_md5": upload.hasher.hexdigest("md5"),
        }
        size = sum(s.size_bytes for s in segments)
        etag = response.headers.get("etag", "").strip('"') or None
        return self._uploaded(container, name, size, etag, headers, response, extra)

    def _uploaded(
        self, container: str, name: str, size: int, etag: str | None, headers: Mapping[str, str],
        response: httpx.Response, extra: dict[str, Any],
    ) -> Object:  # fmt: skip
        return Object(
            name=name,
            size=size,
            hash=etag,
            content_type=headers.get("Content-Type"),
            meta_data={k[len(_META) :].lower(): v for k, v in headers.items() if k.lower().startswith(_META)},
            container_name=container,
            last_modified=http_time(response.headers.get("last-modified")) or datetime.now(UTC),
            extra=extra,
        )._bind(self)

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
            ObjectNotFoundError: The object does not exist.
            IntegrityError: The body ended before the announced length.
        """
        check_range(start_bytes, end_bytes)
        size = self.default_chunk_size if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"chunk_size must be a positive int, got {size!r}")
        return self._download(obj.container_name, obj.name, start_bytes, end_bytes, size)

    async def _download(
        self, container: str, name: str, start: int, end: int | None, chunk_size: int
    ) -> AsyncIterator[bytes]:
        url = await self._object_url(check_container_name(container), check_object_name(name))
        ranged = start > 0 or end is not None
        headers = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if ranged else {}
        async with self._http.stream("GET", url, headers=headers) as response:
            announced = to_int(response.headers.get("content-length"), None)
            # A server that ignores Range answers 200 with everything: cut the window out here.
            skip, wanted = (
                (start, None if end is None else end - start)
                if ranged and response.status_code == 200
                else (0, None)
            )
            received = 0
            buffer = bytearray()
            # A whole plain object's ETag is the MD5 of its bytes (not so for large-object manifests).
            etag = response.headers.get("etag", "").strip('"').lower()
            plain = not ranged and not (
                response.headers.get("x-static-large-object") or response.headers.get("x-object-manifest")
            )
            hasher = (
                hashlib.md5(usedforsecurity=False) if plain and re.fullmatch(r"[0-9a-f]{32}", etag) else None
            )
            # Raw bytes: objects are served as stored (no content decoding).
            raw = response.aiter_raw()
            finished = False
            try:
                async for piece in raw:
                    received += len(piece)
                    if skip:
                        cut = min(skip, len(piece))
                        piece, skip = piece[cut:], skip - cut
                    if wanted is not None:
                        piece = piece[:wanted]
                        wanted -= len(piece)
                    if hasher is not None:
                        hasher.update(piece)
                    buffer += piece
                    while len(buffer) >= chunk_size:
                        yield bytes(buffer[:chunk_size])
                        del buffer[:chunk_size]
                finished = True
            except httpx.RemoteProtocolError as exc:
                finished = True
                raise IntegrityError(
                    f"download of {name!r} was cut short after {received} bytes ({type(exc).__name__})"
                ) from exc
            finally:
                if not finished:  # the caller stopped early, or was cancelled
                    await abandon_response(response, raw)
            complete = wanted == 0 or (wanted is None and (announced is None or received == announced))
            if not complete:
                raise IntegrityError(f"download of {name!r} got {received} bytes, expected {announced}")
            span = re.fullmatch(
                r"\s*bytes\s+(\d+)-(\d+)/(?:\d+|\*)\s*", response.headers.get("content-range", "")
            )
            if response.status_code == 206 and span and received != int(span[2]) - int(span[1]) + 1:
                raise IntegrityError(f"download of {name!r} got {received} bytes of a shorter Content-Range")
            if hasher is not None and hasher.hexdigest() != etag:
                raise IntegrityError(f"download of {name!r} failed its MD5 check (ETag {etag})")
            if buffer:
                yield bytes(buffer)

    async def delete_object(self, obj: Object) -> None:
        """Delete an object; a static large object is deleted with its segments.

        A retry whose earlier attempt may have acted (its answer was lost) and that finds nothing counts as
        done; finding nothing on the first attempt raises ``ObjectNotFoundError``.
        """
        url = await self._object_url(check_container_name(obj.container_name), check_object_name(obj.name))
        if obj.extra.get("static_large_object") is False:
            await self._delete(url)
            return
        response = await self._delete(
            url, params={"multipart-manifest": "delete"}, headers={"Accept": "application/json"}
        )
        if response is None:
            return
        try:
            result = json_object(response) if response.content else {}
        except MalformedJson:
            return  # an older middleware answering in text: the status already said it worked
        errors = optional(result, "Errors", list) or []
        if any("not an slo manifest" in str(e).lower() for e in errors):
            await self._delete(url)  # a plain object after all
            return
        deleted, missing = optional(result, "Number Deleted", int), optional(result, "Number Not Found", int)
        if not deleted and missing:
            if response.extensions.get(EARLIER_ATTEMPT_MAY_HAVE_ACTED):
                return  # an earlier attempt of this call deleted it; its answer was lost
            raise ObjectNotFoundError(
                f"object {obj.name!r} not found in container {obj.container_name!r}",
                provider=self.provider,
                status=404,
                code="NoSuchObject",
            )
        status = optional(result, "Response Status", str) or "200"
        if errors or not status.startswith("2"):
            raise ProviderError(
                f"deleting large object {obj.name!r}: {status}; errors: {errors}"[:500],
                provider=self.provider,
                status=to_int(status.split(" ", 1)[0], None),
                code="BulkDeleteFailed",
            )

    def _content_md5(self, obj: Object) -> str | None:
        if obj.extra.get("static_large_object") or obj.extra.get("object_manifest"):
            md5 = obj.extra.get("content_md5")  # known only for large objects uploaded by this driver
            return md5 if isinstance(md5, str) else None
        return obj.hash if obj.hash and _HEX_MD5.match(obj.hash) else None

    # ------------------------------------------------------------------------------------- temp URLs

    async def ex_set_account_metadata_temp_url_key(self, key: str) -> None:
        """Set the account's ``Temp-URL-Key`` (``X-Account-Meta-Temp-URL-Key``) and sign with it from now."""
        if not isinstance(key, str) or not key:
            raise ConfigurationError("the temp URL key must be a non-empty string")
        self._http.add_secrets(key)
        await self._http.request(
            "POST", await self._account_url(), headers={"X-Account-Meta-Temp-URL-Key": key}
        )
        self._temp_url_key = key

    async def _temp_key(self) -> str:
        if self._temp_url_key is None:
            response = await self._http.request("HEAD", await self._account_url())
            key = response.headers.get("x-account-meta-temp-url-key")
            if not key:
                raise ConfigurationError(
                    "no temp URL key: pass temp_url_key= or call ex_set_account_metadata_temp_url_key()"
                )
            self._http.add_secrets(key)
            self._temp_url_key = key
        return self._temp_url_key

    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str:
        """A temporary URL (Swift ``tempurl``) allowing ``method`` on the object for ``expires`` seconds.

        Raises:
            ConfigurationError: No temp URL key is known, or ``expires``/``method`` is invalid.
        """
        method = method.upper()
        if method not in METHODS:
            raise ConfigurationError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < 1:
            raise ConfigurationError(f"expires must be a positive number of seconds, got {expires!r}")
        url = await self._object_url(check_container_name(obj.container_name), check_object_name(obj.name))
        key = await self._temp_key()
        return temp_url(url, key, method, int(_unix_time()) + expires, self._temp_url_digest)


# ---------------------------------------------------------------------------------------------- helpers


def _name(entry: Mapping[str, Any], where: str) -> str:
    name = require(entry, "name", str, where)
    if not name:
        raise MalformedJson(f"{where}.name is empty")
    return name


def _size(entry: Mapping[str, Any], key: str, where: str) -> int:
    value = require(entry, key, int, where)
    if value < 0:
        raise MalformedJson(f"{where}.{key} is negative")
    return value


def _unix_time() -> float:
    """The current Unix time (a seam for tests of temp URL expiry)."""
    return time.time()
