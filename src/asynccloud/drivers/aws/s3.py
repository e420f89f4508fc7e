"""Amazon S3 storage driver (``Provider.AWS`` / ``Provider.S3``), also the base of every S3-compatible store.

::

    async with S3StorageDriver(region="eu-west-1") as s3:                     # credentials from env/files
        bucket = await s3.create_container("my-bucket")
        await bucket.upload_object_via_stream(open("big.iso", "rb"), "isos/big.iso")
        async for obj in bucket.iterate_objects(prefix="isos/"):
            url = await obj.get_cdn_url(expires=600)                          # presigned GET

    S3StorageDriver("key", "secret", endpoint="http://127.0.0.1:9000")        # MinIO, moto, Ceph, ...

Requests are signed with SigV4 (S3 rules) and go through the shared pipeline (one retry loop; S3 error
codes mapped by :class:`~asynccloud.drivers.aws._s3_errors.S3ErrorPolicy`). Addressing rules are in
:mod:`~asynccloud.drivers.aws._endpoints`, uploads and their integrity checks in
:mod:`~asynccloud.drivers.aws._s3_multipart`. See ``docs/storage.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Unpack, cast

import anyio
import httpx

from asynccloud._capability import Capability
from asynccloud._pagination import collect, token_pages
from asynccloud.auth.sigv4 import SigV4Auth, presign_url
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import StorageDriverBase, check_range
from asynccloud.drivers.aws._common import (
    DEFAULT_REGION,
    AwsSettings,
    aws_service_endpoint,
    parse_endpoint,
    resolve_aws_settings,
)
from asynccloud.drivers.aws._endpoints import Addressing, S3Endpoint, check_bucket_name, check_key
from asynccloud.drivers.aws._s3_errors import S3ErrorPolicy
from asynccloud.drivers.aws._s3_multipart import (
    ChecksumAlgorithm,
    S3Upload,
    TransferSettings,
    is_plain_md5_etag,
    strip_etag,
)
from asynccloud.drivers.aws._s3_objects import (
    bucket_container,
    guess_content_type,
    head_object,
    listed_objects,
    meta_data_headers,
)
from asynccloud.drivers.aws._s3_xml import (
    PendingUpload,
    build_create_bucket,
    parse_list_buckets,
    parse_list_multipart_uploads,
    parse_list_objects_v2,
)
from asynccloud.errors import ConfigurationError, IntegrityError
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping

    from asynccloud._streams import UploadSource
    from asynccloud.drivers.aws._s3_xml import Bucket

__all__ = ["DEFAULT_PART_SIZE", "PendingUpload", "S3StorageDriver"]

DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 8
#: Connection pools used when the caller does not configure the transport (see HttpOptions.pools).
DEFAULT_POOLS = 4
_LIST_PAGE_SIZE = 1000


class S3StorageDriver(HttpDriverBase, StorageDriverBase):
    """Object storage on Amazon S3 or any S3-compatible endpoint.

    Args:
        key: Access key id; with ``secret`` (and ``token``) it overrides the environment and shared files.
        secret: Secret access key.
        token: Session token of temporary credentials.
        region: Region, any string (no allow-list); default from ``AWS_REGION``/``AWS_DEFAULT_REGION``/the
            config file, else ``us-east-1``. It is the signing region and, without ``endpoint``, picks the
            regional endpoint ``https://s3.<region>.amazonaws.com``.
        endpoint: Base URL of an S3-compatible endpoint (``http://127.0.0.1:9000``), used for every request.
        profile: Profile of the shared credentials/config files (``~/.aws/credentials``, ``~/.aws/config``).
        addressing: ``"auto"`` (path-style for explicit endpoints, IP hosts and non-DNS bucket names;
            virtual-hosted otherwise), ``"path"`` or ``"virtual"``.
        multipart_threshold: Objects up to this size are uploaded with one PUT; larger ones in parts.
        part_size: Bytes per part (>= 5 MiB).
        max_concurrency: Parts uploaded at once; memory stays near ``part_size * max_concurrency``.
        checksum: Default additional checksum for uploads: ``"crc32c"``, ``"sha256"`` or ``None`` (MD5 only).
        chunk_size: Default chunk size of downloads, in bytes.
        **options: The portable HTTP options (:class:`~asynccloud.drivers._http_driver.HttpOptions`):
            ``timeout``, ``retry``, ``http_client``, ``transport``, ``limits``, ``pools``, ``verify``.

    Raises:
        ConfigurationError: No credentials were found, or an option is invalid.
    """

    provider: ClassVar[str] = "aws"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SIGNED_URLS,
            Capability.RANGE_DOWNLOADS,
            Capability.MULTIPART_UPLOADS,
            Capability.OBJECT_META_DATA,
        }
    )

    # How subclasses for S3-compatible stores differ from AWS itself.
    #: Region when none is given; ``None`` makes ``region=`` mandatory.
    default_region: ClassVar[str | None] = DEFAULT_REGION
    #: Read the region from ``AWS_REGION``/``AWS_DEFAULT_REGION``/the AWS config file.
    region_from_environment: ClassVar[bool] = True
    #: Default endpoint, formatted with ``region`` (and :meth:`_endpoint_values`); ``None`` means AWS's.
    endpoint_template: ClassVar[str | None] = None
    #: Refuse to build without ``endpoint=`` (self-hosted stores have no default).
    endpoint_required: ClassVar[bool] = False
    #: With ``addressing="auto"``, use path-style on the default endpoint too.
    path_style_by_default: ClassVar[bool] = False
    #: Send ``CreateBucketConfiguration/LocationConstraint`` when the region is not ``us-east-1``.
    send_location_constraint: ClassVar[bool] = True

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
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
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
            raise ConfigurationError(f"chunk_size must be a positive int, got {chunk_size!r}")
        self._settings = TransferSettings(multipart_threshold, part_size, max_concurrency)
        if checksum not in (None, "crc32c", "sha256"):
            raise ConfigurationError(f"checksum must be 'crc32c', 'sha256' or None, got {checksum!r}")
        self._checksum = checksum
        self.default_chunk_size = chunk_size
        aws = resolve_aws_settings(
            key,
            secret,
            token,
            region=region,
            profile=profile,
            default_region=self.default_region,
            region_from_environment=self.region_from_environment,
        )
        self._aws: AwsSettings = aws
        self.region = aws.region
        if endpoint is not None:
            base = parse_endpoint(endpoint)
        elif self.endpoint_template is not None:
            base = parse_endpoint(self.endpoint_template.format(region=aws.region, **self._endpoint_values()))
        elif self.endpoint_required:
            raise ConfigurationError(
                f"the {self.provider} driver needs endpoint=... (the URL of your server); there is no default"
            )
        else:
            base = parse_endpoint(aws_service_endpoint("s3", aws.region))
        self._endpoint = S3Endpoint(
            base, addressing, explicit=endpoint is not None or self.path_style_by_default
        )
        self._auth = SigV4Auth(aws.credentials, aws.region, "s3", s3_mode=True)
        http_options = HttpOptions(**options)
        if not any(name in http_options for name in ("http_client", "transport", "pools")):
            http_options["pools"] = DEFAULT_POOLS
        secrets = [aws.credentials.secret_access_key, aws.credentials.session_token or ""]
        self._http = self._open_http(
            http_options,
            auth=self._auth,
            error_policy=S3ErrorPolicy(self.provider, self._endpoint.resource_of),
            secrets=[s for s in secrets if s],
        )

    def _endpoint_values(self) -> dict[str, str]:
        """Extra values for :attr:`endpoint_template` (e.g. Cloudflare's ``account_id``)."""
        return {}

    @property
    def endpoint(self) -> str:
        """The service endpoint requests go to (without bucket)."""
        return self._endpoint.service_url

    @property
    def transfer_settings(self) -> TransferSettings:
        """Upload tuning in force: ``multipart_threshold``, ``part_size``, ``max_concurrency``."""
        return self._settings

    # --- containers --------------------------------------------------------------------------------

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """The buckets of the account (ListBuckets, following continuation tokens)."""

        async def fetch(token: str | None) -> tuple[list[Bucket], str | None]:
            params = {"continuation-token": token} if token else None
            response = await self._http.request("GET", self._endpoint.service_url, params=params)
            return parse_list_buckets(response.content, self.provider)

        async for bucket in token_pages(fetch, provider=self.provider):
            yield bucket_container(self, bucket)

    async def get_container(self, container_name: str) -> Container:
        """The bucket named ``container_name`` (HEAD bucket); ``ContainerNotFoundError`` if there is none."""
        name = check_bucket_name(container_name)
        response = await self._http.request("HEAD", self._endpoint.bucket_url(name))
        extra = (
            {"region": response.headers["x-amz-bucket-region"]}
            if "x-amz-bucket-region" in response.headers
            else {}
        )
        return Container(name=name, extra=extra)._bind(self)

    async def create_container(self, container_name: str) -> Container:
        """Create a bucket in the driver's region.

        Outside ``us-east-1`` the region is sent as ``LocationConstraint``. A name taken by anyone raises
        ``ContainerAlreadyExistsError`` — except that AWS's ``us-east-1`` answers success when you
        re-create a bucket you already own (a documented legacy behaviour, passed on as is).
        """
        name = check_bucket_name(container_name)
        content = None
        if self.send_location_constraint and self.region != DEFAULT_REGION:
            content = build_create_bucket(self.region or DEFAULT_REGION)
        await self._http.request("PUT", self._endpoint.bucket_url(name), content=content)
        return Container(name=name, extra={"region": self.region})._bind(self)

    async def delete_container(self, container: Container) -> None:
        """Delete an empty bucket; ``ContainerNotEmptyError`` if it holds objects."""
        await self._http.request("DELETE", self._endpoint.bucket_url(check_bucket_name(container.name)))

    # --- listing -----------------------------------------------------------------------------------

    def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """The objects of a bucket in key order (ListObjectsV2, following continuation tokens).

        Listed objects carry name, size, ETag (``hash``), last-modified time and storage class; S3 does
        not list content types or metadata (``get_object`` fetches them).
        """
        name = check_bucket_name(container.name)
        url = self._endpoint.bucket_url(name)

        async def fetch(token: str | None) -> tuple[list[Object], str | None]:
            params: dict[str, str] = {
                "list-type": "2",
                "encoding-type": "url",
                "max-keys": str(_LIST_PAGE_SIZE),
            }
            if prefix:
                params["prefix"] = prefix
            if token:
                params["continuation-token"] = token
            response = await self._http.request("GET", url, params=params)
            page = parse_list_objects_v2(response.content, self.provider)
            return listed_objects(self, name, page.objects), page.next_token

        # The paginator itself is the iterator (no generator around it: one frame less per object).
        return token_pages(fetch, provider=self.provider)

    async def get_object(self, container_name: str, object_name: str) -> Object:
        """One object's metadata (HEAD): size, ETag, content type, ``meta_data``, last-modified time."""
        bucket = check_bucket_name(container_name)
        key = check_key(object_name)
        response = await self._http.request("HEAD", self._endpoint.object_url(bucket, key))
        return head_object(self, bucket, key, response.headers)

    # --- uploads -----------------------------------------------------------------------------------

    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
        checksum: ChecksumAlgorithm | None = None,
    ) -> Object:
        """Upload bytes, a path, a binary file or a sync/async iterable of bytes.

        One PUT up to ``multipart_threshold`` bytes, a concurrent multipart upload above it; MD5 checked
        per request and for the whole object, plus ``checksum`` (CRC32C or SHA-256) when asked. A failed
        or cancelled multipart upload is aborted on the server.

        Args:
            iterator: The data (see :data:`asynccloud._streams.UploadSource`).
            container: The bucket.
            object_name: The key.
            content_type: Defaults to a guess from the name's extension.
            meta_data: User metadata (``x-amz-meta-*``); names come back lower-case.
            checksum: ``"crc32c"`` or ``"sha256"`` for an additional checksum; default: the driver's.

        Returns:
            The object as written (its ``hash`` is the ETag; ``extra`` has ``version_id``, ``parts``
            and the checksum when one was used).

        Raises:
            IntegrityError: S3 stored something other than what was sent (the object is deleted).
        """
        bucket = check_bucket_name(container.name)
        key = check_key(object_name)
        kind = content_type or guess_content_type(key)
        meta = meta_data_headers(meta_data)
        upload = S3Upload(
            self._http,
            self._endpoint.object_url(bucket, key),
            key,
            {"Content-Type": kind, **meta},
            self._settings,
            checksum if checksum is not None else self._checksum,
            self.provider,
        )
        result = await upload.run(iterator)
        extra: dict[str, Any] = {"parts": result.parts}
        if result.version_id:
            extra["version_id"] = result.version_id
        if result.checksum_algorithm and result.checksum:
            extra[f"checksum_{result.checksum_algorithm}"] = result.checksum
        return Object(
            name=key,
            size=result.size,
            hash=result.etag,
            content_type=kind,
            meta_data={name.lower(): value for name, value in (meta_data or {}).items()},
            container_name=bucket,
            extra=extra,
        )._bind(self)

    async def upload_object(
        self,
        file_path: str | Path,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
        verify_hash: bool = True,
        checksum: ChecksumAlgorithm | None = None,
    ) -> Object:
        """Upload a local file (see :meth:`upload_object_via_stream`; integrity checks are always on)."""
        path = Path(file_path)
        if not await anyio.Path(path).is_file():
            raise ConfigurationError(f"file to upload does not exist or is not a file: {str(path)!r}")
        return await self.upload_object_via_stream(
            path, container, object_name, content_type=content_type, meta_data=meta_data, checksum=checksum
        )

    # --- downloads ---------------------------------------------------------------------------------

    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start_bytes, end_bytes)`` (end exclusive; ``None``: to the end).

        The size is checked against ``Content-Length`` and, for a whole object whose ETag is a plain MD5,
        the MD5 too: a short or corrupted body raises ``IntegrityError`` at the end instead of ending
        quietly. Close the iterator (``contextlib.aclosing``) when stopping early.
        """
        check_range(start_bytes, end_bytes)
        size = self.default_chunk_size if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ConfigurationError(f"chunk_size must be a positive int, got {size!r}")
        bucket = check_bucket_name(obj.container_name)
        key = check_key(obj.name)
        return self._get(bucket, key, start_bytes, end_bytes, size)

    async def _get(
        self, bucket: str, key: str, start: int, end: int | None, chunk_size: int
    ) -> AsyncIterator[bytes]:
        ranged = start > 0 or end is not None
        headers = {"Accept-Encoding": "identity"}
        if ranged:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        url = self._endpoint.object_url(bucket, key)
        async with self._http.stream("GET", url, headers=headers) as response:
            length = _content_length(response)
            # A server that ignores Range answers 200 with the whole object: cut the window out here.
            window = (start, end) if ranged and response.status_code == 200 else None
            etag = strip_etag(response.headers.get("etag"))
            hasher = None
            if not ranged and is_plain_md5_etag(etag, response.headers):
                hasher = hashlib.md5(usedforsecurity=False)
            raw = _raw(response, chunk_size)
            received = 0
            try:
                async for chunk in raw:
                    received += len(chunk)
                    if window is not None:
                        chunk = _cut(chunk, received - len(chunk), *window)
                        if chunk:
                            yield chunk
                        if window[1] is not None and received >= window[1]:
                            return
                        continue
                    if hasher is not None:
                        hasher.update(chunk)
                    yield chunk
            except httpx.RemoteProtocolError as exc:
                raise IntegrityError(
                    f"download of {key!r} was cut off after {received} of {length} bytes: {exc}"
                ) from exc
            finally:
                await _release(raw, response)
            if length is not None and received != length:
                raise IntegrityError(f"download of {key!r} ended after {received} of {length} bytes")
            span = _range_span(response)
            if span is not None and received != span:
                # Content-Length can be wrong (a proxy that rewrote it); Content-Range is a second witness.
                raise IntegrityError(f"download of {key!r} got {received} bytes of a {span}-byte range")
            if hasher is not None and hasher.hexdigest() != etag:
                raise IntegrityError(
                    f"download of {key!r} failed its MD5 check (ETag {etag}, received {hasher.hexdigest()})"
                )

    def _content_md5(self, obj: Object) -> str | None:
        # The GET stream checks the MD5 itself, against the ETag of the response it is reading: that
        # ETag belongs to the bytes actually served (not to a possibly stale listing), and the same
        # response tells whether SSE-KMS/SSE-C made the ETag opaque. Hashing twice would gain nothing.
        return None

    # --- deletion, URLs, pending uploads -----------------------------------------------------------

    async def delete_object(self, obj: Object) -> None:
        """Delete an object. S3 deletes are idempotent: deleting a missing key succeeds."""
        bucket = check_bucket_name(obj.container_name)
        await self._http.request("DELETE", self._endpoint.object_url(bucket, check_key(obj.name)))

    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str:
        """A presigned URL for ``obj``, valid ``expires`` seconds (1 s to 7 days), for ``method``.

        Anyone holding the URL can make that request without credentials; nothing is sent to S3 here.
        """
        bucket = check_bucket_name(obj.container_name)
        url = self._endpoint.object_url(bucket, check_key(obj.name))
        return presign_url(
            method.upper() if isinstance(method, str) else method,
            url,
            credentials=self._aws.credentials,
            region=self._aws.region,
            service="s3",
            expires=expires,
        )

    def iterate_multipart_uploads(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[PendingUpload]:
        """Multipart uploads started in a bucket and neither completed nor aborted (ListMultipartUploads).

        Useful to find (and abort) uploads that a crashed process left behind; this driver aborts its own.
        """
        bucket = check_bucket_name(container.name)
        url = self._endpoint.bucket_url(bucket)

        async def fetch(marker: tuple[str, str] | None) -> tuple[list[PendingUpload], tuple[str, str] | None]:
            params: dict[str, str] = {"uploads": "", "encoding-type": "url"}
            if prefix:
                params["prefix"] = prefix
            if marker is not None:
                params["key-marker"], params["upload-id-marker"] = marker
            response = await self._http.request("GET", url, params=params)
            page = parse_list_multipart_uploads(response.content, self.provider)
            return page.uploads, page.next

        return token_pages(fetch, provider=self.provider)

    async def list_multipart_uploads(
        self, container: Container, *, prefix: str | None = None
    ) -> list[PendingUpload]:
        """All pending multipart uploads of a bucket (collects :meth:`iterate_multipart_uploads`)."""
        return await collect(self.iterate_multipart_uploads(container, prefix=prefix))

    async def abort_multipart_upload(self, container: Container, object_name: str, upload_id: str) -> None:
        """Abort a pending multipart upload, discarding its parts."""
        bucket = check_bucket_name(container.name)
        url = self._endpoint.object_url(bucket, check_key(object_name))
        await self._http.request("DELETE", url, params={"uploadId": upload_id})


async def _raw(response: httpx.Response, chunk_size: int) -> AsyncGenerator[bytes, None]:
    """The bytes as stored (no content decoding), in chunks of exactly ``chunk_size`` (the last shorter).

    Rechunked here rather than with ``aiter_raw(chunk_size)``: httpx's chunker copies every byte three
    times (``BytesIO`` write, ``getvalue``, slicing), which capped downloads at a few hundred MB/s. This
    joins the network pieces once per chunk and passes a piece of exactly ``chunk_size`` through as is.
    """
    # httpx implements aiter_raw as an async generator but annotates it as an AsyncIterator; it must be
    # closed when left early.
    pieces = cast("AsyncGenerator[bytes, None]", response.aiter_raw())
    pending: list[bytes] = []
    have = 0
    try:
        async for piece in pieces:
            if not piece:
                continue
            if not have and len(piece) == chunk_size:
                yield piece
                continue
            pending.append(piece)
            have += len(piece)
            if have < chunk_size:
                continue
            data = b"".join(pending) if len(pending) > 1 else pending[0]
            offset = 0
            while have - offset >= chunk_size:
                yield data[offset : offset + chunk_size]
                offset += chunk_size
            pending = [data[offset:]] if offset < have else []
            have -= offset
        if have:
            yield b"".join(pending)
    finally:
        await pieces.aclose()


def _content_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _range_span(response: httpx.Response) -> int | None:
    """Bytes a 206 answer's ``Content-Range: bytes first-last/total`` announces, or ``None``."""
    if response.status_code != 206:
        return None
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(?:\d+|\*)\s*", response.headers.get("content-range", ""))
    return int(match[2]) - int(match[1]) + 1 if match else None


def _cut(chunk: bytes, offset: int, start: int, end: int | None) -> bytes:
    """The part of ``chunk`` (which starts at ``offset`` in the body) that lies in ``[start, end)``."""
    lo = max(start - offset, 0)
    hi = len(chunk) if end is None else min(end - offset, len(chunk))
    return chunk[lo:hi] if lo < hi else b""


async def _release(raw: AsyncGenerator[bytes, None], response: httpx.Response) -> None:
    """Release a body iterator, also when it was left part-way (the reader stopped early).

    Closing ``raw`` alone would leave httpx's and httpcore's inner async generators suspended until the
    garbage collector finds them (on trio, with a ResourceWarning; httpx issue 3686). Instead the
    response is closed first, then ``raw`` is driven on: the innermost read fails at once on the closed
    stream, and that error unwinds and finishes every generator of the chain.
    """
    if getattr(raw, "ag_frame", None) is None:  # exhausted or failed: nothing is suspended
        return
    with anyio.CancelScope(shield=True):
        await response.aclose()
        with contextlib.suppress(Exception):
            async for _ in raw:
                pass
