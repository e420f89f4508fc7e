"""The Swift driver against a real OpenStack Swift (tempauth) on 127.0.0.1, started by scripts/servers."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast

import anyio
import httpx
import pytest

from asynccloud import (
    AuthenticationError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DriverType,
    InvalidRequestError,
    ObjectNotFoundError,
    Provider,
    get_driver,
)
from asynccloud.auth.keystone import KeystoneAuth, V1Password
from asynccloud.drivers.openstack import SwiftStorageDriver
from asynccloud.drivers.openstack import swift as swift_module

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator
    from pathlib import Path

    from asynccloud.models import Container

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MIB = 1 << 20
MANY = 2000  # objects in the pagination container


def connect(server: dict[str, str], **kw: Any) -> SwiftStorageDriver:
    return SwiftStorageDriver(server["auth_user"], server["auth_key"], auth_url=server["auth_url"], **kw)


@pytest.fixture
async def swift(swift_server: dict[str, str]) -> AsyncIterator[SwiftStorageDriver]:
    async with connect(swift_server, part_size=MIB) as driver:
        yield driver


@pytest.fixture
async def box(swift: SwiftStorageDriver) -> AsyncIterator[Container]:
    container = await swift.create_container(f"box-{uuid.uuid4().hex[:8]}")
    yield container
    for obj in await swift.list_container_objects(container):
        await obj.delete()
    await container.delete()


@pytest.fixture(scope="session")
def many(swift_server: dict[str, str]) -> str:
    """A container of MANY objects (``obj-00000`` ...), created once, concurrently, 16 at a time."""
    name = f"many-{uuid.uuid4().hex[:8]}"

    async def populate() -> None:
        async with connect(swift_server) as driver:
            container = await driver.create_container(name)
            limiter = anyio.Semaphore(16)

            async def put(i: int) -> None:
                async with limiter:
                    await container.upload_object_via_stream(f"{i}".encode(), f"obj-{i:05d}")

            async with anyio.create_task_group() as tg:
                for i in range(MANY):
                    tg.start_soon(put, i)

    anyio.run(populate)
    return name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------- portable verbs


async def test_portable_storage_verbs(swift_server: dict[str, str], tmp_path: Path) -> None:
    Storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    name = f"verbs-{uuid.uuid4().hex[:8]}"
    async with Storage(
        swift_server["auth_user"],
        swift_server["auth_key"],
        auth_url=swift_server["auth_url"],
        auth_version="1.0",  # Swift tempauth, as the example constructs it
    ) as st:
        container = await st.create_container(name)
        with pytest.raises(ContainerAlreadyExistsError):
            await st.create_container(name)
        assert name in [c.name for c in await st.list_containers()]

        source = tmp_path / "source.txt"
        source.write_bytes(b"from a file\n")
        await st.upload_object(source, container, "docs/file.txt")
        await container.upload_object_via_stream(
            b"bytes!", "docs/bytes.bin", content_type="application/x-test"
        )
        await container.upload_object_via_stream(iter([b"sync ", b"iter"]), "iter/sync")

        async def agen() -> AsyncIterator[bytes]:
            yield b"async "
            yield b"iter"

        await container.upload_object_via_stream(agen(), "iter/async")
        assert [o.name for o in await container.list_objects(prefix="docs/")] == [
            "docs/bytes.bin",
            "docs/file.txt",
        ]

        obj = await st.get_object(name, "docs/file.txt")
        assert (obj.size, obj.hash, obj.content_type) == (
            12,
            hashlib.md5(b"from a file\n").hexdigest(),
            "text/plain",
        )
        assert (await st.get_object(name, "docs/bytes.bin")).content_type == "application/x-test"
        target = await obj.download(tmp_path / "out")
        assert target.read_bytes() == b"from a file\n"
        assert (
            b"".join([c async for c in (await container.get_object("iter/async")).as_stream()])
            == b"async iter"
        )
        chunks = [c async for c in (await container.get_object("iter/sync")).as_stream(chunk_size=3)]
        assert chunks == [b"syn", b"c i", b"ter"]

        counted = await st.get_container(name)
        assert counted.extra["object_count"] == 4
        with pytest.raises(ContainerNotEmptyError):
            await container.delete()
        for o in await container.list_objects():
            await o.delete()
        with pytest.raises(ObjectNotFoundError):
            await st.get_object(name, "docs/file.txt")
        with pytest.raises(ObjectNotFoundError):
            await obj.delete()
        await container.delete()
        with pytest.raises(ContainerNotFoundError):
            await st.get_container(name)


async def test_meta_data_and_content_type_round_trip(swift: SwiftStorageDriver, box: Container) -> None:
    meta = {"owner": "ana", "Project-Code": "X-42"}
    uploaded = await box.upload_object_via_stream(b"{}", "meta.json", meta_data=meta)
    fetched = await swift.get_object(box.name, "meta.json")
    assert fetched.meta_data == {"owner": "ana", "project-code": "X-42"} == uploaded.meta_data
    assert fetched.content_type == "application/json"
    assert fetched.hash == uploaded.hash == hashlib.md5(b"{}").hexdigest()


async def test_ranges(swift: SwiftStorageDriver, box: Container, tmp_path: Path) -> None:
    data = bytes(range(256)) * 16
    obj = await box.upload_object_via_stream(data, "r.bin")

    async def read(start: int, end: int | None) -> bytes:
        return b"".join([c async for c in obj.range_as_stream(start, end, chunk_size=100)])

    assert await read(0, 1) == data[:1]
    assert await read(10, 20) == data[10:20]
    assert await read(4000, None) == data[4000:]
    assert await read(0, len(data)) == data
    path = await swift.download_object_range(obj, tmp_path / "part", 100, 300)
    assert path.read_bytes() == data[100:300]
    with pytest.raises(InvalidRequestError):
        await read(len(data) + 10, None)


async def test_names_that_need_escaping(swift: SwiftStorageDriver, box: Container) -> None:
    names = ["with space.txt", "ünïcödé/ß.txt", "a/../b", "q?x=1&y#z", "100%.txt", "./dot"]
    for name in names:
        await box.upload_object_via_stream(name.encode(), name)
    listed = sorted(o.name for o in await box.list_objects())
    assert listed == sorted(names)
    for name in names:
        assert b"".join([c async for c in (await box.get_object(name)).as_stream()]) == name.encode()


async def test_stopping_a_download_early_releases_it(swift: SwiftStorageDriver, box: Container) -> None:
    obj = await box.upload_object_via_stream(os.urandom(3 * MIB), "big-ish")
    for _ in range(3):
        async with aclosing(cast("AsyncGenerator[bytes, None]", obj.as_stream(chunk_size=1024))) as chunks:
            async for _chunk in chunks:
                break
    assert len(b"".join([c async for c in obj.range_as_stream(0, 10)])) == 10


# ------------------------------------------------------------------------------------- pagination


async def test_listing_follows_markers_over_thousands_of_objects(
    swift_server: dict[str, str], many: str
) -> None:
    async with connect(swift_server, page_size=1000) as driver:
        container = await driver.get_container(many)
        names = [o.name async for o in container.iterate_objects()]
        assert len(names) == MANY
        assert names == sorted(names) == [f"obj-{i:05d}" for i in range(MANY)]
        prefixed = await container.list_objects(prefix="obj-012")
        assert [o.name for o in prefixed] == [f"obj-{i:05d}" for i in range(1200, 1300)]


async def test_account_listing_follows_markers(swift_server: dict[str, str]) -> None:
    async with connect(swift_server, page_size=2) as driver:
        created = [f"acct-{uuid.uuid4().hex[:6]}-{i}" for i in range(5)]
        for name in created:
            await driver.create_container(name)
        try:
            listed = [c.name for c in await driver.list_containers()]
            assert set(created) <= set(listed)
            assert listed == sorted(listed)
        finally:
            for name in created:
                await driver.delete_container(await driver.get_container(name))


# ---------------------------------------------------------------------------------- large objects


async def test_large_object_upload_and_download(
    swift: SwiftStorageDriver, box: Container, tmp_path: Path
) -> None:
    data = os.urandom(5 * MIB + 12345)

    async def source() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 100_000):  # odd-sized pieces: the driver re-cuts them into segments
            yield data[i : i + 100_000]

    uploaded = await box.upload_object_via_stream(source(), "large.bin", meta_data={"kind": "slo"})
    assert uploaded.extra["static_large_object"] is True
    assert uploaded.extra["segments"] == 6
    obj = await swift.get_object(box.name, "large.bin")
    assert obj.size == len(data)
    assert obj.extra["static_large_object"] is True
    assert obj.hash == uploaded.hash
    assert obj.meta_data == {"kind": "slo"}
    streamed = b"".join([c async for c in obj.as_stream(chunk_size=MIB)])
    assert sha256(streamed) == sha256(data)
    boundary = b"".join([c async for c in obj.range_as_stream(MIB - 10, MIB + 10)])
    assert boundary == data[MIB - 10 : MIB + 10]
    path = await uploaded.download(tmp_path / "large.bin")  # checks the size and the client-side MD5
    assert sha256(path.read_bytes()) == sha256(data)
    listed = {o.name: o for o in await box.list_objects()}
    assert listed["large.bin"].extra["static_large_object"] is True
    assert listed["large.bin"].size == len(data)

    segments = await swift.get_container(f"{box.name}_segments")
    assert len(await segments.list_objects(prefix="large.bin/")) == 6
    await listed["large.bin"].delete()  # deletes the segments too
    assert await segments.list_objects(prefix="large.bin/") == []
    await segments.delete()


# httpx/httpcore leave the body generator of a request cancelled mid-send to the garbage collector, which trio
# reports as a ResourceWarning. Cancelling segment uploads in flight is what these two tests do on purpose.
HTTPX_BODY_LEFT_TO_GC = pytest.mark.filterwarnings(
    "ignore:Async generator 'httpx._content.ByteStream.__aiter__' was garbage collected:ResourceWarning"
)


@HTTPX_BODY_LEFT_TO_GC
async def test_cancelled_large_upload_leaves_no_segments(swift: SwiftStorageDriver, box: Container) -> None:
    sent = anyio.Event()

    async def source() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield os.urandom(MIB)
        sent.set()
        await anyio.sleep_forever()  # a producer that stalls: the caller gives up
        yield b""

    async with anyio.create_task_group() as tg:
        tg.start_soon(box.upload_object_via_stream, source(), "never.bin")
        await sent.wait()
        await anyio.sleep(0.3)  # let the segments in flight land
        tg.cancel_scope.cancel()

    segments = await swift.get_container(f"{box.name}_segments")
    assert await segments.list_objects() == []
    with pytest.raises(ObjectNotFoundError):
        await swift.get_object(box.name, "never.bin")
    await segments.delete()


@HTTPX_BODY_LEFT_TO_GC
async def test_failing_source_leaves_no_segments(swift: SwiftStorageDriver, box: Container) -> None:
    async def source() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield os.urandom(MIB)
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        await box.upload_object_via_stream(source(), "broken.bin")
    segments = await swift.get_container(f"{box.name}_segments")
    assert await segments.list_objects() == []
    await segments.delete()


# -------------------------------------------------------------------------------------- temp URLs


async def test_temp_urls(swift: SwiftStorageDriver, box: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    obj = await box.upload_object_via_stream(b"shared secretly", "dir/a file ü.txt")
    await swift.ex_set_account_metadata_temp_url_key(f"key-{uuid.uuid4().hex}")
    url = await obj.get_cdn_url(expires=120)
    async with httpx.AsyncClient() as plain:
        got = await plain.get(url)
        assert (got.status_code, got.content) == (200, b"shared secretly")
        assert (await plain.head(url)).status_code == 200
        assert (await plain.put(url, content=b"nope")).status_code == 401  # signed for GET only
        tampered = url.replace("temp_url_sig=", "temp_url_sig=0")
        assert (await plain.get(tampered)).status_code == 401

        put_url = await swift.get_object_cdn_url(obj.model_copy(update={"name": "uploaded"}), method="PUT")
        assert (await plain.put(put_url, content=b"via temp url")).status_code == 201

        monkeypatch.setattr(swift_module, "_unix_time", lambda: time.time() - 3600)
        expired = await obj.get_cdn_url(expires=60)  # expired an hour ago
        monkeypatch.undo()
        assert (await plain.get(expired)).status_code == 401

    fetched = await box.get_object("uploaded")
    assert b"".join([c async for c in fetched.as_stream()]) == b"via temp url"

    # Another driver finds the key in the account's metadata.
    async with connect_like(swift) as other:
        assert (await other.get_object_cdn_url(obj)).startswith(url.split("?")[0])


def connect_like(driver: SwiftStorageDriver) -> SwiftStorageDriver:
    return SwiftStorageDriver(auth=driver.auth)


# ------------------------------------------------------------------------------------------ identity


async def test_wrong_key_is_an_authentication_error(swift_server: dict[str, str]) -> None:
    async with SwiftStorageDriver(
        swift_server["auth_user"], "wrong", auth_url=swift_server["auth_url"]
    ) as driver:
        with pytest.raises(AuthenticationError) as info:
            await driver.list_containers()
    assert "wrong" not in str(info.value)


async def test_shared_auth_one_token_for_many_drivers_and_calls(swift_server: dict[str, str]) -> None:
    credentials = V1Password(swift_server["auth_user"], swift_server["auth_key"])
    async with KeystoneAuth(swift_server["auth_url"], credentials) as auth:
        drivers = [SwiftStorageDriver(auth=auth) for _ in range(3)]
        async with anyio.create_task_group() as tg:
            for driver in drivers:
                for _ in range(20):
                    tg.start_soon(driver.list_containers)
        for driver in drivers:
            await driver.aclose()
        assert auth.token_requests == 1
        assert not auth.http.is_closed  # drivers do not close a shared auth
