"""S3 uploads against a fake S3: single PUT vs multipart, integrity checks, abort on failure and cancel."""

from __future__ import annotations

import base64
import hashlib
import io
import tracemalloc
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import anyio
import anyio.lowlevel
import crc32c
import httpx
import pytest

from asynccloud.drivers.aws._s3_multipart import MAX_PARTS, MIN_PART_SIZE, S3Upload, TransferSettings
from asynccloud.errors import ConfigurationError, IntegrityError, ServerError
from asynccloud.models import Container
from tests.drivers.aws.conftest import FakeS3, error_response, fixture_text, make_driver, md5_hex, only

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from asynccloud.drivers.aws import S3StorageDriver

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
PART = MIN_PART_SIZE


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-per-part test data."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def bucket(driver: S3StorageDriver) -> Container:
    return driver.bind(Container(name="bucket"))


def part_numbers(fake: FakeS3) -> list[int]:
    return sorted(int(r.url.params["partNumber"]) for r in only(fake.requests, "PUT", "partNumber="))


# --- settings ------------------------------------------------------------------------------------------


def test_transfer_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="part_size"):
        TransferSettings(part_size=MIN_PART_SIZE - 1)
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        TransferSettings(max_concurrency=0)
    with pytest.raises(ConfigurationError, match="multipart_threshold"):
        TransferSettings(multipart_threshold=-1)
    with pytest.raises(ConfigurationError, match="must be an int"):
        TransferSettings(part_size=True)
    with pytest.raises(ConfigurationError, match="part_size"):
        make_driver(part_size=1024)


def test_part_size_grows_so_a_known_size_fits_in_10000_parts() -> None:
    settings = TransferSettings(part_size=8 * MIB)
    assert settings.part_size_for(None) == 8 * MIB
    assert settings.part_size_for(8 * MIB * MAX_PARTS) == 8 * MIB
    huge = 200 * 1024**3
    grown = settings.part_size_for(huge)
    assert grown % MIB == 0
    assert grown * MAX_PARTS >= huge > (grown - MIB) * MAX_PARTS


# --- single PUT ----------------------------------------------------------------------------------------


def _sources(data: bytes, tmp_path: Path) -> Iterator[tuple[str, object]]:
    path = tmp_path / "source.bin"
    path.write_bytes(data)

    async def agen() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    yield "bytes", data
    yield "bytearray", bytearray(data)
    yield "path", path
    yield "str path", str(path)
    yield "file", io.BytesIO(data)
    yield "sync iterable", [data[i : i + 777] for i in range(0, len(data), 777)]
    yield "async iterable", agen()


async def test_small_uploads_are_one_put_with_content_md5_from_every_source(
    fake_s3: FakeS3, tmp_path: Path
) -> None:
    data = pattern(300_000)
    async with make_driver() as s3:
        for label, source in _sources(data, tmp_path):
            obj = await s3.upload_object_via_stream(source, bucket(s3), f"obj-{label}")  # type: ignore[arg-type]
            assert obj.size == len(data), label
            assert obj.hash == md5_hex(data), label
            stored, headers = fake_s3.objects[("bucket", f"obj-{label}")]
            assert stored == data, label
            assert headers["content-md5"] == b64md5(data), label
            assert headers["content-length"] == str(len(data)), label
    assert not fake_s3.created  # no multipart upload was started


async def test_upload_object_from_a_path_and_a_missing_path(fake_s3: FakeS3, tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"file body")
    async with make_driver() as s3:
        obj = await s3.upload_object(path, bucket(s3), "f.txt")
        assert obj.content_type == "text/plain"
        assert fake_s3.objects[("bucket", "f.txt")][0] == b"file body"
        with pytest.raises(ConfigurationError, match="does not exist"):
            await s3.upload_object(tmp_path / "nope", bucket(s3), "x")


async def test_empty_object_is_one_put(fake_s3: FakeS3) -> None:
    async with make_driver() as s3:
        obj = await s3.upload_object_via_stream(iter([]), bucket(s3), "empty")
    assert obj.size == 0
    assert fake_s3.objects[("bucket", "empty")][1]["content-md5"] == b64md5(b"")


async def test_single_put_with_sha256_checksum_signs_and_sends_it(fake_s3: FakeS3) -> None:
    data = pattern(400_000)
    async with make_driver() as s3:
        obj = await s3.upload_object_via_stream(data, bucket(s3), "k", checksum="sha256")
    headers = fake_s3.objects[("bucket", "k")][1]
    digest = hashlib.sha256(data).digest()
    assert headers["x-amz-checksum-sha256"] == base64.b64encode(digest).decode()
    assert headers["x-amz-content-sha256"] == digest.hex()
    assert headers["x-amz-sdk-checksum-algorithm"] == "SHA256"
    assert obj.extra["checksum_sha256"] == base64.b64encode(digest).decode()


async def test_a_stored_md5_other_than_the_sent_one_raises_and_deletes(fake_s3: FakeS3) -> None:
    def corrupt(request: httpx.Request) -> httpx.Response:
        response = fake_s3.handle(request)
        if request.method == "PUT":
            return httpx.Response(200, headers={"ETag": '"00000000000000000000000000000000"'})
        return response

    fake_s3.override = corrupt
    async with make_driver() as s3:
        with pytest.raises(IntegrityError, match="not the MD5"):
            await s3.upload_object_via_stream(b"data", bucket(s3), "k")
    assert [r.method for r in fake_s3.requests] == ["PUT", "DELETE"]
    assert ("bucket", "k") not in fake_s3.objects


async def test_bad_digest_becomes_integrity_error(fake_s3: FakeS3) -> None:
    fake_s3.override = lambda request: error_response(
        400, "BadDigest", "The Content-MD5 you specified did not match what we received."
    )
    async with make_driver() as s3:
        with pytest.raises(IntegrityError, match="BadDigest") as info:
            await s3.upload_object_via_stream(b"data", bucket(s3), "k")
    assert "did not match" in str(info.value)


# --- multipart -----------------------------------------------------------------------------------------


async def test_multipart_happy_path(fake_s3: FakeS3) -> None:
    data = pattern(2 * PART + 12345)
    async with make_driver(multipart_threshold=PART, part_size=PART, max_concurrency=2) as s3:
        obj = await s3.upload_object_via_stream(
            data, bucket(s3), "big.bin", content_type="application/x-big", meta_data={"Owner": "ana"}
        )
    assert fake_s3.objects[("bucket", "big.bin")][0] == data
    assert part_numbers(fake_s3) == [1, 2, 3]
    for request in only(fake_s3.requests, "PUT", "partNumber="):
        assert request.headers["content-md5"] == b64md5(request.content)
        # The signed Content-MD5 binds every body to the signature: no second pass to hash it for SigV4.
        assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    (created,) = fake_s3.created
    assert created.headers["content-type"] == "application/x-big"
    assert created.headers["x-amz-meta-owner"] == "ana"
    # CompleteMultipartUpload lists every part, in order, with the ETag S3 returned for it.
    root = ElementTree.fromstring(fake_s3.completed[0])
    listed = [(p.findtext("{*}PartNumber"), p.findtext("{*}ETag")) for p in root.findall("{*}Part")]
    chunks = [data[:PART], data[PART : 2 * PART], data[2 * PART :]]
    assert listed == [(str(i + 1), f'"{md5_hex(c)}"') for i, c in enumerate(chunks)]
    md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert obj.hash == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert obj.size == len(data)
    assert obj.extra["parts"] == 3
    assert obj.meta_data == {"owner": "ana"}
    assert not fake_s3.aborted


async def test_unknown_length_stream_decides_after_reading(fake_s3: FakeS3) -> None:
    async def chunks(total: int) -> AsyncIterator[bytes]:
        for i in range(0, total, 64 * 1024):
            yield pattern(min(64 * 1024, total - i), i)

    async with make_driver(multipart_threshold=PART, part_size=PART) as s3:
        await s3.upload_object_via_stream(chunks(PART), bucket(s3), "exactly-threshold")
        assert not fake_s3.created
        await s3.upload_object_via_stream(chunks(PART + 1), bucket(s3), "one-more-byte")
        assert len(fake_s3.created) == 1
    assert len(fake_s3.objects[("bucket", "one-more-byte")][0]) == PART + 1


async def test_parts_are_uploaded_concurrently_within_the_bound(fake_s3: FakeS3) -> None:
    in_flight = 0
    peak = 0
    release = anyio.Event()

    async def slow_part(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        if "partNumber" not in request.url.params:
            return fake_s3.handle(request)
        in_flight += 1
        peak = max(peak, in_flight)
        if peak >= 3:
            release.set()
        with anyio.fail_after(5):
            await release.wait()
        in_flight -= 1
        return fake_s3.handle(request)

    fake_s3.override = slow_part
    async with make_driver(multipart_threshold=0, part_size=PART, max_concurrency=3) as s3:
        await s3.upload_object_via_stream(pattern(6 * PART), bucket(s3), "k")
    assert peak == 3
    assert part_numbers(fake_s3) == [1, 2, 3, 4, 5, 6]


async def test_multipart_with_crc32c_sends_part_and_composite_checksums(fake_s3: FakeS3) -> None:
    data = pattern(PART + 100)
    async with make_driver(multipart_threshold=0, part_size=PART, checksum="crc32c") as s3:
        obj = await s3.upload_object_via_stream(data, bucket(s3), "k")
    assert fake_s3.created[0].headers["x-amz-checksum-algorithm"] == "CRC32C"
    part_crcs = []
    for request in sorted(
        only(fake_s3.requests, "PUT", "partNumber="), key=lambda r: r.url.params["partNumber"]
    ):
        crc = crc32c.crc32c(request.content).to_bytes(4, "big")  # the library is checked against _crc32c
        part_crcs.append(crc)
        assert request.headers["x-amz-checksum-crc32c"] == base64.b64encode(crc).decode()
    root = ElementTree.fromstring(fake_s3.completed[0])
    assert [p.findtext("{*}ChecksumCRC32C") for p in root.findall("{*}Part")] == [
        base64.b64encode(c).decode() for c in part_crcs
    ]
    composite = base64.b64encode(_crc32c(b"".join(part_crcs))).decode()
    assert obj.extra["checksum_crc32c"] == f"{composite}-2"


def test_crc32c_known_answer() -> None:
    # RFC 3720 / iSCSI check value of "123456789", and the library agreeing with a plain implementation.
    assert _crc32c(b"123456789").hex() == "e3069283"
    for size in (0, 1, 7, 1000, 65537):
        data = pattern(size, size)
        assert crc32c.crc32c(data).to_bytes(4, "big") == _crc32c(data)


async def test_a_wrong_composite_checksum_is_an_integrity_error(fake_s3: FakeS3) -> None:
    etag = hashlib.md5(hashlib.md5(b"abc").digest()).hexdigest() + "-1"
    fake_s3.complete_body = fixture_text("complete_multipart.xml", etag=etag).replace(
        "</ETag>", "</ETag><ChecksumCRC32C>AAAAAA==-1</ChecksumCRC32C>"
    )
    async with make_driver(multipart_threshold=0, checksum="crc32c") as s3:
        with pytest.raises(IntegrityError, match="composite crc32c"):
            await s3.upload_object_via_stream(b"abc", bucket(s3), "k")
    assert only(fake_s3.requests, "DELETE")  # the object that failed the check is removed


async def test_part_etag_mismatch_raises_and_aborts(fake_s3: FakeS3) -> None:
    def wrong_etag(request: httpx.Request, number: int) -> httpx.Response | None:
        if number == 2:
            return httpx.Response(200, headers={"ETag": '"ffffffffffffffffffffffffffffffff"'})
        return None

    fake_s3.part_hook = wrong_etag
    async with make_driver(multipart_threshold=0, max_concurrency=1) as s3:
        with pytest.raises(IntegrityError, match="part 2"):
            await s3.upload_object_via_stream(pattern(3 * PART), bucket(s3), "k")
    assert len(fake_s3.aborted) == 1
    assert not fake_s3.completed


async def test_part_failure_raises_itself_and_aborts(fake_s3: FakeS3) -> None:
    def failing(request: httpx.Request, number: int) -> httpx.Response | None:
        return error_response(500, "InternalError", "boom") if number == 2 else None

    fake_s3.part_hook = failing
    async with make_driver(multipart_threshold=0, max_concurrency=2) as s3:
        with pytest.raises(ServerError, match="boom"):
            await s3.upload_object_via_stream(pattern(3 * PART), bucket(s3), "k")
    assert fake_s3.aborted == fake_s3.upload_ids
    assert not fake_s3.completed
    # part 2 was retried (500 is transient) before giving up: 3 attempts
    assert len(only(fake_s3.requests, "PUT", "partNumber=2&")) == 3


async def test_cancellation_half_way_aborts_the_upload(fake_s3: FakeS3) -> None:
    with anyio.CancelScope() as scope:

        def cancel_at_part_2(request: httpx.Request, number: int) -> httpx.Response | None:
            if number == 2:
                scope.cancel()
            return None

        fake_s3.part_hook = cancel_at_part_2
        async with make_driver(multipart_threshold=0, max_concurrency=1) as s3:
            await s3.upload_object_via_stream(pattern(4 * PART), bucket(s3), "k")
    assert scope.cancelled_caught
    assert len(fake_s3.aborted) == 1  # the shielded abort went out although the caller was cancelled
    assert not fake_s3.completed
    assert part_numbers(fake_s3) == [1, 2]


async def test_complete_answering_200_with_an_error_aborts(fake_s3: FakeS3) -> None:
    fake_s3.complete_body = fixture_text("complete_multipart_error.xml")
    async with make_driver(multipart_threshold=0) as s3:
        with pytest.raises(ServerError) as info:
            await s3.upload_object_via_stream(b"abc", bucket(s3), "k")
    assert info.value.code == "InternalError"
    assert info.value.request_id == "656c76696e6727732072657175657374"
    assert len(fake_s3.aborted) == 1


async def test_final_etag_mismatch_raises_and_deletes_the_object(fake_s3: FakeS3) -> None:
    fake_s3.complete_etag = "0123456789abcdef0123456789abcdef-1"
    async with make_driver(multipart_threshold=0) as s3:
        with pytest.raises(IntegrityError, match="final ETag"):
            await s3.upload_object_via_stream(b"abc", bucket(s3), "k")
    assert ("bucket", "k") not in fake_s3.objects


async def test_too_many_parts_for_an_unknown_length_stream_is_refused(fake_s3: FakeS3) -> None:
    async with make_driver() as s3:
        upload = S3Upload(
            s3._http, s3._endpoint.object_url("bucket", "k"), "k", {}, s3.transfer_settings, None, "aws"
        )
        with pytest.raises(ConfigurationError, match="more than 10000 parts"):
            await upload._upload_part("id", MAX_PARTS + 1, b"x")
    assert not fake_s3.requests


# --- helpers -------------------------------------------------------------------------------------------


def _crc32c(data: bytes) -> bytes:
    """A bit-by-bit CRC32C (Castagnoli, reflected 0x82F63B78), independent of the library under test."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return (crc ^ 0xFFFFFFFF).to_bytes(4, "big")


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


class _StreamingS3(httpx.AsyncBaseTransport):
    """A transport that consumes request bodies piece by piece and keeps only their MD5s (no data)."""

    def __init__(self) -> None:
        self.part_md5s: dict[int, bytes] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.method == "POST" and "uploads" in params:
            return httpx.Response(200, text=fixture_text("initiate_multipart.xml"))
        if request.method == "PUT" and "partNumber" in params:
            digest = hashlib.md5()
            assert isinstance(request.stream, httpx.AsyncByteStream)
            async for piece in request.stream:
                digest.update(piece)
                await anyio.lowlevel.checkpoint()  # interleave with the other parts, as a network would
            self.part_md5s[int(params["partNumber"])] = digest.digest()
            return httpx.Response(200, headers={"ETag": f'"{digest.hexdigest()}"'})
        if request.method == "POST":
            md5s = b"".join(self.part_md5s[n] for n in sorted(self.part_md5s))
            etag = f"{hashlib.md5(md5s).hexdigest()}-{len(self.part_md5s)}"
            return httpx.Response(200, text=fixture_text("complete_multipart.xml", etag=etag))
        return httpx.Response(400)


async def test_memory_stays_within_the_part_bound_whatever_the_size() -> None:
    transport = _StreamingS3()

    async def source() -> AsyncIterator[bytes]:
        for i in range(12 * 20):  # 60 MiB in 256 KiB pieces, made on the fly
            yield pattern(256 * 1024, i % 7)

    async with make_driver(part_size=PART, max_concurrency=3, transport=transport) as s3:
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            uploaded = await s3.upload_object_via_stream(source(), bucket(s3), "big")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert uploaded.extra["parts"] == 12
    assert uploaded.size == 60 * MIB
    bound = PART * (3 + 2)
    assert peak < bound, f"peak {peak / MIB:.1f} MiB, bound {bound / MIB:.0f} MiB"
