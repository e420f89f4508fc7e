"""The S3 driver against a real S3 implementation: moto server on 127.0.0.1 (started once per session).

Every scenario of issue 3 that needs a server: thousands of keys listed across pages, metadata round trip,
ranges, a 64 MiB streamed multipart upload and download with checksums, a cancelled multipart upload that
leaves nothing pending, a presigned GET fetched with plain httpx, signature rejection with authentication
on, and the memory bound of a large upload.
"""

from __future__ import annotations

import hashlib
import random
import tracemalloc
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from asynccloud.auth.aws_credentials import AwsCredentials
from asynccloud.auth.sigv4 import SigV4Auth
from asynccloud.drivers.aws import S3StorageDriver
from asynccloud.errors import (
    AuthenticationError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    ObjectNotFoundError,
)
from asynccloud.models import Container

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.integration,
    # The first test of the session also installs moto into .servers-venv (about a minute on a fresh clone).
    pytest.mark.timeout(300),
]

MIB = 1024 * 1024
LISTED_KEYS = 2100  # three ListObjectsV2 pages of at most 1000 keys


def driver_for(server: dict[str, str], **options: object) -> S3StorageDriver:
    settings: dict[str, object] = {"region": server["region"], "endpoint": server["endpoint"], **options}
    # The tests pass a few known transfer and HTTP options through this helper.
    return S3StorageDriver(server["access_key_id"], server["secret_access_key"], **settings)  # type: ignore[arg-type]


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def s3(moto_server: dict[str, str]) -> AsyncIterator[S3StorageDriver]:
    async with driver_for(moto_server) as driver:
        yield driver


@pytest.fixture
async def bucket(s3: S3StorageDriver) -> AsyncIterator[Container]:
    container = await s3.create_container(unique())
    yield container
    for obj in await container.list_objects():  # keep moto's memory small: big objects go at once
        await obj.delete()
    for pending in await s3.list_multipart_uploads(container):
        await s3.abort_multipart_upload(container, pending.key, pending.upload_id)
    await container.delete()


@pytest.fixture(scope="session")
def listing_bucket(moto_server: dict[str, str]) -> str:
    """A bucket with ``LISTED_KEYS`` keys under ``many/`` and 3 under ``few/``, uploaded concurrently."""
    name = unique("listing")

    async def populate() -> None:
        limiter = anyio.CapacityLimiter(16)
        async with driver_for(moto_server) as driver:
            container = await driver.create_container(name)

            async def put(key: str) -> None:
                async with limiter:
                    await container.upload_object_via_stream(key.encode(), key)

            async with anyio.create_task_group() as tg:
                for i in range(LISTED_KEYS):
                    tg.start_soon(put, f"many/{i:05d}")
                for i in range(3):
                    tg.start_soon(put, f"few/{i}")

    # Populated once for both backends (it takes seconds on moto); the listings below run on each.
    anyio.run(populate, backend="trio")
    return name


def data_block(seed: int, size: int = MIB) -> bytes:
    return random.Random(seed).randbytes(size)


async def generated(
    total: int, chunk: int, hasher: hashlib._Hash | None = None
) -> AsyncGenerator[bytes, None]:
    """``total`` bytes of varied data in ``chunk``-sized pieces, made on the fly (never all in memory)."""
    block = data_block(7, chunk)
    sent = 0
    index = 0
    while sent < total:
        piece = (index.to_bytes(8, "big") + block[8:])[: min(chunk, total - sent)]
        if hasher is not None:
            hasher.update(piece)
        sent += len(piece)
        index += 1
        yield piece


# --- containers ----------------------------------------------------------------------------------------


async def test_container_lifecycle(s3: S3StorageDriver, moto_server: dict[str, str]) -> None:
    name = unique()
    created = await s3.create_container(name)
    assert (await s3.get_container(name)).name == name
    assert name in [c.name for c in await s3.list_containers()]
    await created.upload_object_via_stream(b"x", "k")
    with pytest.raises(ContainerNotEmptyError):
        await created.delete()
    await (await created.get_object("k")).delete()
    await created.delete()
    with pytest.raises(ContainerNotFoundError):
        await s3.get_container(name)

    # Outside us-east-1 the LocationConstraint is sent, and re-creating one's own bucket is an error.
    async with driver_for(moto_server, region="eu-west-1") as eu:
        regional = await eu.create_container(unique())
        with pytest.raises(ContainerAlreadyExistsError) as info:
            await eu.create_container(regional.name)
        assert info.value.code == "BucketAlreadyOwnedByYou"
        assert info.value.request_id
        assert (await eu.get_container(regional.name)).extra.get("region") == "eu-west-1"
        await regional.delete()


# --- listing -------------------------------------------------------------------------------------------


async def test_listing_thousands_of_keys_across_pages(
    moto_server: dict[str, str], listing_bucket: str
) -> None:
    pages = 0

    async def count(request: httpx.Request) -> None:
        nonlocal pages
        if request.url.params.get("list-type") == "2":
            pages += 1

    client = httpx.AsyncClient(event_hooks={"request": [count]})
    async with client, driver_for(moto_server, http_client=client) as s3:
        container = s3.bind(Container(name=listing_bucket))
        names = [o.name async for o in container.iterate_objects(prefix="many/")]
        assert pages == 3
        few = await container.list_objects(prefix="few/")
        everything = await s3.list_container_objects(container)
    assert names == [f"many/{i:05d}" for i in range(LISTED_KEYS)]
    assert [o.name for o in few] == ["few/0", "few/1", "few/2"]
    assert len(everything) == LISTED_KEYS + 3
    sample = everything[0]
    assert sample.size == len(sample.name)
    assert sample.hash == hashlib.md5(sample.name.encode()).hexdigest()
    assert sample.last_modified is not None


# --- objects -------------------------------------------------------------------------------------------


async def test_metadata_and_content_type_round_trip(s3: S3StorageDriver, bucket: Container) -> None:
    meta = {"Owner": "ana", "city": "Zürich", "note": "  spaced  "}
    key = "dir/name with spaces & ünïcode?.txt"
    uploaded = await bucket.upload_object_via_stream(
        b"hello", key, content_type="text/x-greeting", meta_data=meta
    )
    fetched = await s3.get_object(bucket.name, key)
    assert fetched.meta_data == {"owner": "ana", "city": "Zürich", "note": "  spaced  "}
    assert fetched.meta_data == uploaded.meta_data
    assert fetched.content_type == "text/x-greeting"
    assert fetched.size == 5
    assert fetched.hash == hashlib.md5(b"hello").hexdigest() == uploaded.hash
    assert fetched.last_modified is not None
    (listed,) = await bucket.list_objects(prefix="dir/")
    assert listed.name == key
    assert b"".join([c async for c in fetched.as_stream()]) == b"hello"


async def test_ranges(s3: S3StorageDriver, bucket: Container, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    obj = await bucket.upload_object_via_stream(data, "ranged.bin")

    async def read(start: int, end: int | None) -> bytes:
        return b"".join([c async for c in obj.range_as_stream(start, end, chunk_size=100)])

    assert await read(0, 1) == data[:1]
    assert await read(10, 20) == data[10:20]
    assert await read(1000, None) == data[1000:]
    assert await read(0, None) == data
    path = await s3.download_object_range(obj, tmp_path / "part.bin", 100, 612)
    assert path.read_bytes() == data[100:612]


async def test_delete_and_missing_objects(s3: S3StorageDriver, bucket: Container) -> None:
    obj = await bucket.upload_object_via_stream(b"bye", "gone")
    await obj.delete()
    with pytest.raises(ObjectNotFoundError):
        await s3.get_object(bucket.name, "gone")
    with pytest.raises(ObjectNotFoundError) as info:
        async for _ in obj.as_stream():
            pass
    assert info.value.code == "NoSuchKey"


async def test_64mib_streamed_multipart_upload_and_download_with_checksums(
    s3: S3StorageDriver, bucket: Container, moto_server: dict[str, str], tmp_path: Path
) -> None:
    total = 64 * MIB
    sent = hashlib.sha256()
    async with driver_for(moto_server, part_size=8 * MIB, max_concurrency=4) as big:
        uploaded = await big.upload_object_via_stream(
            generated(total, 256 * 1024, sent), bucket, "big.bin", checksum="crc32c"
        )
    uploaded = s3.bind(uploaded)  # the driver that uploaded it is closed; use the test's
    assert uploaded.size == total
    assert uploaded.hash is not None
    assert uploaded.hash.endswith("-8")  # 8 parts of 8 MiB, from a stream of unknown length
    assert uploaded.extra["parts"] == 8
    assert await s3.list_multipart_uploads(bucket) == []

    # The server's own composite CRC32C (moto computes it from the stored parts) matches ours.
    auth = SigV4Auth(
        AwsCredentials(moto_server["access_key_id"], moto_server["secret_access_key"]),
        moto_server["region"],
        "s3",
        s3_mode=True,
    )
    async with httpx.AsyncClient(auth=auth) as raw:
        head = await raw.head(
            f"{moto_server['endpoint']}/{bucket.name}/big.bin", headers={"x-amz-checksum-mode": "ENABLED"}
        )
    composite, _, parts = uploaded.extra["checksum_crc32c"].partition("-")
    assert parts == "8"
    assert head.headers["x-amz-checksum-crc32c"].partition("-")[0] == composite  # moto omits the "-8"

    # Streamed download in chunks, then to a file (the driver checks size; the ETag is not an MD5 here).
    received = hashlib.sha256()
    size = 0
    async for chunk in uploaded.as_stream(chunk_size=MIB):
        assert len(chunk) <= MIB
        received.update(chunk)
        size += len(chunk)
    assert size == total
    assert received.digest() == sent.digest()
    path = await uploaded.download(tmp_path / "big.bin")
    assert path.stat().st_size == total
    assert hashlib.sha256(path.read_bytes()).digest() == sent.digest()


async def test_stopping_a_real_download_early(bucket: Container) -> None:
    obj = await bucket.upload_object_via_stream(data_block(3, 3 * MIB), "early.bin")
    stream = obj.as_stream(chunk_size=64 * 1024)
    assert isinstance(stream, AsyncGenerator)
    async with aclosing(stream):
        async for chunk in stream:
            assert len(chunk) == 64 * 1024
            break
    # The connection was released cleanly: the driver goes on working.
    assert b"".join([c async for c in obj.range_as_stream(0, 3)]) == data_block(3, 3 * MIB)[:3]


async def test_cancelled_multipart_upload_leaves_nothing_pending(
    moto_server: dict[str, str], bucket: Container
) -> None:
    produced = 0
    with anyio.CancelScope() as scope:

        async def source() -> AsyncIterator[bytes]:
            nonlocal produced
            for i in range(6):
                if i == 3:
                    scope.cancel()  # half-way: parts 1 and 2 are up or in flight
                produced += 1
                yield data_block(i, 5 * MIB)

        async with driver_for(moto_server, part_size=5 * MIB, max_concurrency=2) as s3:
            await s3.upload_object_via_stream(source(), bucket, "cancelled.bin")
    assert scope.cancelled_caught
    assert produced < 6
    async with driver_for(moto_server) as s3:
        assert await s3.list_multipart_uploads(bucket) == []
        with pytest.raises(ObjectNotFoundError):
            await s3.get_object(bucket.name, "cancelled.bin")


async def test_presigned_get_with_plain_httpx(s3: S3StorageDriver, bucket: Container) -> None:
    obj = await bucket.upload_object_via_stream(b"shared secretly", "share/me.txt")
    url = await s3.get_object_cdn_url(obj, expires=120)
    async with httpx.AsyncClient() as plain:
        response = await plain.get(url)
        assert response.status_code == 200
        assert response.content == b"shared secretly"
        put_url = await obj.get_cdn_url(expires=120, method="PUT")
        assert (await plain.put(put_url, content=b"replaced")).status_code == 200
    assert (
        b"".join([c async for c in (await s3.get_object(bucket.name, "share/me.txt")).as_stream()])
        == b"replaced"
    )


async def test_memory_stays_within_the_part_bound(moto_server: dict[str, str], bucket: Container) -> None:
    part_size, concurrency, total = 5 * MIB, 3, 60 * MIB
    async with driver_for(moto_server, part_size=part_size, max_concurrency=concurrency) as s3:
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            uploaded = await s3.upload_object_via_stream(generated(total, 256 * 1024), bucket, "mem.bin")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert uploaded.size == total
    assert uploaded.extra["parts"] == 12
    bound = part_size * (concurrency + 2)
    assert peak < bound, f"peak {peak / MIB:.1f} MiB over the bound {bound / MIB:.0f} MiB"


# --- authentication on -----------------------------------------------------------------------------------


async def test_signatures_are_accepted_and_a_wrong_secret_is_rejected(
    moto_auth_server: dict[str, str],
) -> None:
    assert moto_auth_server["auth"] == "sigv4-enforced"
    async with driver_for(moto_auth_server, part_size=5 * MIB, multipart_threshold=5 * MIB) as good:
        container = await good.create_container(unique("auth"))
        # A small body (payload hash signed), a streamed one (UNSIGNED-PAYLOAD + signed Content-MD5), and
        # a multipart upload: every request kind the driver signs.
        await container.upload_object_via_stream(b"signed", "small.txt", meta_data={"k": "v"})
        await container.upload_object_via_stream(data_block(10, MIB), "streamed.bin")
        data = data_block(11, 5 * MIB + 1000)
        big = await container.upload_object_via_stream(data, "two-parts.bin")
        assert big.extra["parts"] == 2
        assert b"".join([c async for c in big.as_stream()]) == data
        names = [o.name for o in await container.list_objects()]
        assert names == ["small.txt", "streamed.bin", "two-parts.bin"]
        assert (await good.get_object(container.name, "small.txt")).meta_data == {"k": "v"}

    wrong = {**moto_auth_server, "secret_access_key": "not-the-secret"}
    async with driver_for(wrong) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.list_containers()
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status == 403
    assert "not-the-secret" not in str(info.value)

    unknown = {**moto_auth_server, "access_key_id": "AKIAUNKNOWNKEY000000"}
    async with driver_for(unknown) as stranger:
        with pytest.raises(AuthenticationError) as info:
            await stranger.list_container_objects(container)
    assert info.value.code == "InvalidAccessKeyId"
