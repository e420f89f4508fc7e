"""S3 uploads: one PUT below a threshold, concurrent multipart above it, integrity checked end to end.

:class:`S3Upload` turns an upload source into an object:

* It reads the source in parts of ``part_size`` bytes. If the whole source fits within
  ``multipart_threshold`` it is sent as one ``PutObject`` with ``Content-MD5`` (and an
  ``x-amz-checksum-*`` header when a checksum algorithm is asked for). Sources of known size above the
  threshold go straight to multipart.
* Otherwise it runs a multipart upload: ``CreateMultipartUpload``, then ``UploadPart`` for each part with up
  to ``max_concurrency`` parts in flight (:func:`asynccloud._transfers.upload_parts` reads a part only
  when a slot is free, so memory stays near ``part_size * max_concurrency`` whatever the object's size),
  then ``CompleteMultipartUpload``. Any failure or cancellation aborts the upload on the server (shielded
  from the cancellation, bounded in time), so no invisible parts are left to be billed.
* Every part carries ``Content-MD5`` and its returned ETag is compared with the MD5 computed here; the
  final ETag is compared with ``md5(concatenated part MD5s)-N``; with ``checksum=`` each part carries its
  CRC32C/SHA-256 and the composite checksum S3 returns is compared with the one computed here. A final
  check that fails deletes the object it just wrote and raises :class:`~asynccloud.errors.IntegrityError`.
  ETags are not MD5s under SSE-KMS and SSE-C; those responses (recognised by their headers) skip the
  ETag comparison, the Content-MD5 check done by S3 itself still applies.

Bodies are sent as replayable streams of 256 KiB slices with an explicit ``Content-Length``: the retry
loop can resend them, and the HTTP stack never copies a whole part at once. Hashing a large part runs in
a worker thread (hashlib and crc32c release the GIL), overlapping with network I/O of other parts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import anyio
import anyio.to_thread
import crc32c

from asynccloud._bodies import sliced
from asynccloud._streams import iter_source, register_hash_algorithm, source_length
from asynccloud._transfers import upload_parts
from asynccloud.auth.sigv4 import UNSIGNED_PAYLOAD
from asynccloud.drivers.aws._s3_errors import DATA_CORRUPTION_CODES
from asynccloud.drivers.aws._s3_xml import (
    ErrorBody,
    build_complete_multipart,
    parse_complete_multipart,
    parse_initiate_multipart,
)
from asynccloud.errors import ConfigurationError, IntegrityError, ProviderError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    import httpx

    from asynccloud._http import BodyFactory, HttpClient, QueryParams
    from asynccloud._streams import UploadSource

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "ChecksumAlgorithm",
    "S3Upload",
    "TransferSettings",
    "UploadResult",
    "is_plain_md5_etag",
]

logger = logging.getLogger("asynccloud.aws.s3")

ChecksumAlgorithm = Literal["crc32c", "sha256"]

MIN_PART_SIZE: Final = 5 * 1024 * 1024
MAX_PART_SIZE: Final = 5 * 1024**3
MAX_PARTS: Final = 10_000
MAX_SINGLE_PUT: Final = 5 * 1024**3
#: Bodies at most this long are sent as bytes (and their SHA-256 signed); longer ones as slices.
#: Upload sources are read in pieces of at most this size, then joined into parts.
_PIECE_SIZE: Final = 1 << 20
#: Hash parts at least this long in a worker thread.
_THREAD_HASH_MIN: Final = 1 << 20
#: How long a shielded abort of a failed multipart upload may take.
ABORT_TIMEOUT: Final = 30.0

# name -> (x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm value, XML element name)
_CHECKSUMS: Final[dict[str, tuple[str, str]]] = {
    "crc32c": ("CRC32C", "ChecksumCRC32C"),
    "sha256": ("SHA256", "ChecksumSHA256"),
}
_PLAIN_MD5: Final = re.compile(r"\A[0-9a-f]{32}\Z")

register_hash_algorithm("crc32c", crc32c.CRC32CHash)


def is_plain_md5_etag(etag: str | None, headers: httpx.Headers | Mapping[str, str]) -> bool:
    """Whether an ETag is the MD5 of the object's bytes.

    It is for objects stored with one PUT without SSE-KMS or SSE-C; multipart ETags end in ``-N``, and
    encrypted objects (the response says so in ``x-amz-server-side-encryption*`` headers) have opaque ones.
    """
    if etag is None or not _PLAIN_MD5.match(etag):
        return False
    sse = str(headers.get("x-amz-server-side-encryption", "")).lower()
    return not sse.startswith("aws:kms") and not headers.get(
        "x-amz-server-side-encryption-customer-algorithm"
    )


def strip_etag(value: str | None) -> str | None:
    """An ETag header value without quotes (and without a weak ``W/`` marker)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """Upload tuning; validated on construction.

    Args:
        multipart_threshold: Objects up to this many bytes go up as one PUT (held in memory); larger
            ones as multipart uploads.
        part_size: Bytes per part (at least 5 MiB, S3's minimum for all but the last part). Raised
            automatically for a source of known size that would need more than 10,000 parts.
        max_concurrency: Parts in flight at once; with ``part_size`` it bounds memory.
    """

    multipart_threshold: int = 8 * 1024 * 1024
    part_size: int = 8 * 1024 * 1024
    max_concurrency: int = 8

    def __post_init__(self) -> None:
        for name in ("multipart_threshold", "part_size", "max_concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(f"{name} must be an int, got {value!r}")
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ConfigurationError(
                f"part_size must be from {MIN_PART_SIZE} (5 MiB) to {MAX_PART_SIZE} (5 GiB), "
                f"got {self.part_size}"
            )
        if not 0 <= self.multipart_threshold <= MAX_SINGLE_PUT:
            raise ConfigurationError(
                f"multipart_threshold must be from 0 to {MAX_SINGLE_PUT} (5 GiB), "
                f"got {self.multipart_threshold}"
            )
        if self.max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be >= 1, got {self.max_concurrency}")

    def part_size_for(self, size: int | None) -> int:
        """The part size for an object of ``size`` bytes (``None``: unknown), keeping within 10,000 parts."""
        if size is None or size <= self.part_size * MAX_PARTS:
            return self.part_size
        needed = -(-size // MAX_PARTS)
        mib = 1024 * 1024
        return min(MAX_PART_SIZE, -(-needed // mib) * mib)


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an upload learnt about the object it wrote."""

    size: int
    etag: str | None
    checksum_algorithm: ChecksumAlgorithm | None
    checksum: str | None
    version_id: str | None
    parts: int


@dataclass(frozen=True, slots=True)
class _Digests:
    md5: bytes
    checksum: bytes | None


@dataclass(frozen=True, slots=True)
class _Part:
    number: int
    etag: str
    md5: bytes
    checksum: bytes | None
    size: int


class _PartReader:
    """Cut an upload source into parts of ``part_size`` bytes (the last may be shorter).

    A plain async iterator rather than a generator, on purpose: a generator keeps the part it yielded last
    in a local variable while it reads the next one, which would keep one finished part alive beyond the
    ``part_size * max_concurrency`` bound. Here a part is referenced only by whoever received it. The
    source is read in pieces of at most 1 MiB that are joined into the part.
    """

    __slots__ = ("_carry", "_done", "_part_size", "_pieces")

    def __init__(self, source: UploadSource, part_size: int) -> None:
        self._pieces = iter_source(source, min(part_size, _PIECE_SIZE))
        self._part_size = part_size
        self._carry = b""
        self._done = False

    def __aiter__(self) -> _PartReader:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        pieces = [self._carry] if self._carry else []
        have = len(self._carry)
        self._carry = b""
        while have < self._part_size:
            piece = await anext(self._pieces, None)
            if piece is None:
                self._done = True
                break
            need = self._part_size - have
            if len(piece) > need:
                self._carry = piece[need:]
                piece = piece[:need]
            pieces.append(piece)
            have += len(piece)
        if not pieces:
            raise StopAsyncIteration
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def aclose(self) -> None:
        self._done = True
        self._carry = b""
        await self._pieces.aclose()


class _Chain:
    """Yield ``head`` then the rest of ``tail``; closing it closes ``tail``."""

    __slots__ = ("_head", "_tail")

    def __init__(self, head: list[bytes], tail: AsyncIterator[bytes]) -> None:
        self._head = head
        self._tail = tail

    def __aiter__(self) -> _Chain:
        return self

    async def __anext__(self) -> bytes:
        if self._head:
            return self._head.pop(0)
        return await anext(self._tail)

    async def aclose(self) -> None:
        self._head.clear()
        closer = getattr(self._tail, "aclose", None)
        if closer is not None:
            await closer()


def _digest(data: bytes, checksum: ChecksumAlgorithm | None) -> _Digests:
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    if checksum == "crc32c":
        return _Digests(md5, crc32c.crc32c(data).to_bytes(4, "big"))
    if checksum == "sha256":
        return _Digests(md5, hashlib.sha256(data).digest())
    return _Digests(md5, None)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class S3Upload:
    """One upload of one object (see the module docstring).

    Args:
        http: The driver's request pipeline.
        url: The object's URL.
        name: The object's name, for messages.
        headers: Headers for the PUT or CreateMultipartUpload (content type, ``x-amz-meta-*``).
        settings: Threshold, part size and concurrency.
        checksum: Additional checksum algorithm, or ``None`` for MD5 only.
        provider: Provider name for errors.
    """

    def __init__(
        self,
        http: HttpClient,
        url: str,
        name: str,
        headers: Mapping[str, str],
        settings: TransferSettings,
        checksum: ChecksumAlgorithm | None,
        provider: str,
    ) -> None:
        if checksum is not None and checksum not in _CHECKSUMS:
            raise ConfigurationError(
                f"checksum must be one of {sorted(_CHECKSUMS)} or None, got {checksum!r}"
            )
        self._http = http
        self._url = url
        self._headers = dict(headers)
        self._settings = settings
        self._checksum: ChecksumAlgorithm | None = checksum
        self._provider = provider
        self._what = name

    async def run(self, source: UploadSource) -> UploadResult:
        """Upload ``source``; returns what S3 reported, after every integrity check passed."""
        size = source_length(source)
        part_size = self._settings.part_size_for(size)
        threshold = self._settings.multipart_threshold
        parts = _PartReader(source, part_size)
        try:
            if size is not None and size > threshold:
                return await self._multipart(parts)
            head: list[bytes] = []
            total = 0
            while total <= threshold:
                part = await anext(parts, None)
                if part is None:
                    data = head[0] if len(head) == 1 else b"".join(head)
                    head.clear()
                    return await self._put(data)
                head.append(part)
                total += len(part)
                del part  # the parts are held by ``head`` only, and given up as they are uploaded
            return await self._multipart(_Chain(head, parts))
        finally:
            await parts.aclose()

    # --- requests ----------------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | BodyFactory | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._url, params=params, headers=headers, content=content, idempotent=idempotent
            )
        except ProviderError as exc:
            if exc.code in DATA_CORRUPTION_CODES:
                raise IntegrityError(f"{self._provider} rejected the data of {self._what!r}: {exc}") from exc
            raise

    async def _digests(self, data: bytes) -> _Digests:
        if len(data) >= _THREAD_HASH_MIN:
            return await anyio.to_thread.run_sync(_digest, data, self._checksum)
        return _digest(data, self._checksum)

    def _data_headers(self, data: bytes, digests: _Digests) -> dict[str, str]:
        headers = {"Content-Length": str(len(data)), "Content-MD5": _b64(digests.md5)}
        # The signed Content-MD5 binds the body to the signature (S3 checks the body against it), so the
        # signer need not hash the body a second time: sign the SHA-256 we have, or UNSIGNED-PAYLOAD.
        sha = digests.checksum if self._checksum == "sha256" else None
        headers["x-amz-content-sha256"] = sha.hex() if sha is not None else UNSIGNED_PAYLOAD
        if self._checksum is not None and digests.checksum is not None:
            algorithm = _CHECKSUMS[self._checksum][0]
            headers["x-amz-sdk-checksum-algorithm"] = algorithm
            headers[f"x-amz-checksum-{self._checksum}"] = _b64(digests.checksum)
        return headers

    def _check_echoed_checksum(self, response: httpx.Response, expected: bytes | None, what: str) -> None:
        if self._checksum is None or expected is None:
            return
        echoed = response.headers.get(f"x-amz-checksum-{self._checksum}")
        if echoed and echoed != _b64(expected):
            raise IntegrityError(
                f"{what}: {self._checksum} mismatch (sent {_b64(expected)}, {self._provider} stored {echoed})"
            )

    # --- single PUT ------------------------------------------------------------------------------------

    async def _put(self, data: bytes) -> UploadResult:
        digests = await self._digests(data)
        headers = {**self._headers, **self._data_headers(data, digests)}
        response = await self._send("PUT", headers=headers, content=sliced(data))
        etag = strip_etag(response.headers.get("etag"))
        what = f"upload of {self._what!r}"
        mismatch = is_plain_md5_etag(etag, response.headers) and etag != digests.md5.hex()
        try:
            if mismatch:
                raise IntegrityError(
                    f"{what}: ETag {etag} is not the MD5 of the data sent ({digests.md5.hex()})"
                )
            self._check_echoed_checksum(response, digests.checksum, what)
        except IntegrityError:
            await self._delete_quietly()
            raise
        return UploadResult(
            size=len(data),
            etag=etag,
            checksum_algorithm=self._checksum,
            checksum=_b64(digests.checksum) if digests.checksum is not None else None,
            version_id=response.headers.get("x-amz-version-id"),
            parts=0,
        )

    # --- multipart -------------------------------------------------------------------------------------

    async def _multipart(self, parts: AsyncIterator[bytes]) -> UploadResult:
        headers = dict(self._headers)
        if self._checksum is not None:
            headers["x-amz-checksum-algorithm"] = _CHECKSUMS[self._checksum][0]
        # Retrying after an error answer is safe; a lost answer may leave an empty upload behind, which
        # holds no data and costs nothing.
        created = await self._send("POST", params={"uploads": ""}, headers=headers, idempotent=True)
        upload_id = parse_initiate_multipart(created.content, self._provider)
        try:
            uploaded = await upload_parts(
                parts,
                lambda number, data: self._upload_part(upload_id, number, data),
                max_concurrency=self._settings.max_concurrency,
            )
            response = await self._complete(upload_id, uploaded)
        except BaseException:
            await self._abort_quietly(upload_id)
            raise
        return await self._verify_completed(response, uploaded)

    async def _upload_part(self, upload_id: str, number: int, data: bytes) -> _Part:
        if number > MAX_PARTS:
            raise ConfigurationError(
                f"upload of {self._what!r} needs more than {MAX_PARTS} parts of {len(data)} bytes; "
                "pass a larger part_size for streams this long"
            )
        digests = await self._digests(data)
        response = await self._send(
            "PUT",
            params={"partNumber": str(number), "uploadId": upload_id},
            headers=self._data_headers(data, digests),
            content=sliced(data),
        )
        raw_etag = response.headers.get("etag")
        etag = strip_etag(raw_etag)
        what = f"part {number} of {self._what!r}"
        if raw_etag is None or etag is None:
            raise ProviderError(f"{what}: UploadPart answered without an ETag", provider=self._provider)
        if is_plain_md5_etag(etag, response.headers) and etag != digests.md5.hex():
            raise IntegrityError(f"{what}: ETag {etag} is not the MD5 of the data sent ({digests.md5.hex()})")
        self._check_echoed_checksum(response, digests.checksum, what)
        return _Part(number, raw_etag, digests.md5, digests.checksum, len(data))

    async def _complete(self, upload_id: str, parts: list[_Part]) -> httpx.Response:
        element = _CHECKSUMS[self._checksum][1] if self._checksum is not None else None
        body = build_complete_multipart(
            (p.number, p.etag, element, _b64(p.checksum) if p.checksum is not None else None) for p in parts
        )
        # S3 documents CompleteMultipartUpload as safe to retry.
        response = await self._send(
            "POST",
            params={"uploadId": upload_id},
            headers={"Content-Type": "application/xml"},
            content=body,
            idempotent=True,
        )
        if isinstance(parse_complete_multipart(response.content, self._provider), ErrorBody):
            raise self._http.error_policy.map_error(response)
        return response

    async def _verify_completed(self, response: httpx.Response, parts: list[_Part]) -> UploadResult:
        completed = parse_complete_multipart(response.content, self._provider)
        assert not isinstance(completed, ErrorBody)  # checked by _complete
        etag = completed.etag or strip_etag(response.headers.get("etag"))
        count = len(parts)
        expected_etag = (
            f"{hashlib.md5(b''.join(p.md5 for p in parts), usedforsecurity=False).hexdigest()}-{count}"
        )
        what = f"multipart upload of {self._what!r}"
        composite: str | None = None
        if self._checksum is not None:
            joined = b"".join(p.checksum or b"" for p in parts)
            raw = (
                crc32c.crc32c(joined).to_bytes(4, "big")
                if self._checksum == "crc32c"
                else hashlib.sha256(joined).digest()
            )
            composite = f"{_b64(raw)}-{count}"
        sse = response.headers.get("x-amz-server-side-encryption", "").lower().startswith("aws:kms") or bool(
            response.headers.get("x-amz-server-side-encryption-customer-algorithm")
        )
        try:
            if etag is not None and not sse and "-" in etag and etag != expected_etag:
                raise IntegrityError(
                    f"{what}: final ETag {etag} is not {expected_etag} (from the parts' MD5s)"
                )
            if composite is not None:
                reported = completed.checksums.get(_CHECKSUMS[self._checksum or "crc32c"][1])
                if reported and reported != composite and "-" in reported:
                    raise IntegrityError(f"{what}: composite {self._checksum} {reported} is not {composite}")
        except IntegrityError:
            await self._delete_quietly()
            raise
        return UploadResult(
            size=sum(p.size for p in parts),
            etag=etag,
            checksum_algorithm=self._checksum,
            checksum=composite,
            version_id=response.headers.get("x-amz-version-id"),
            parts=count,
        )

    # --- clean-up --------------------------------------------------------------------------------------

    async def _abort_quietly(self, upload_id: str) -> None:
        # Runs while an error or a cancellation propagates: shielded so the abort is sent even when the
        # caller was cancelled, bounded so it cannot hang, and silent so it never masks the real error.
        with anyio.move_on_after(ABORT_TIMEOUT, shield=True) as scope:
            try:
                await self._http.request("DELETE", self._url, params={"uploadId": upload_id})
            except Exception as exc:
                logger.warning("could not abort multipart upload of %r: %s", self._what, exc)
        if scope.cancelled_caught:
            logger.warning("aborting the multipart upload of %r timed out", self._what)

    async def _delete_quietly(self) -> None:
        with anyio.move_on_after(ABORT_TIMEOUT, shield=True):
            try:
                await self._http.request("DELETE", self._url)
            except Exception as exc:
                logger.warning("could not delete %r after a failed integrity check: %s", self._what, exc)
