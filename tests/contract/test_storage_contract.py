"""The storage contract: the same portable scenarios, the same expectations, on every storage driver.

Drivers: the local filesystem driver, S3 against moto server, OpenStack Swift against a real Swift and
Azure Blob Storage against Azurite (servers started once per session, on 127.0.0.1). A scenario that
needs a capability a driver does not declare checks that the verb raises ``NotSupportedError`` instead. A
difference the providers cannot hide is written down as such (see ``test_deleting_an_object``), never
papered over per driver.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import (
    Capability,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DestinationExistsError,
    NotSupportedError,
    ObjectNotFoundError,
)
from asynccloud.drivers.aws import S3StorageDriver
from asynccloud.drivers.azure import AzureBlobsStorageDriver
from asynccloud.drivers.local import LocalStorageDriver
from asynccloud.drivers.openstack import SwiftStorageDriver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from asynccloud.drivers.base import StorageDriver
    from asynccloud.models import Container

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

DATA = bytes(range(256)) * 1000  # 256,000 bytes: one request everywhere, several chunks


@pytest.fixture(
    params=[
        "local",
        pytest.param("s3", marks=pytest.mark.integration),
        pytest.param("swift", marks=pytest.mark.integration),
        pytest.param("azure", marks=pytest.mark.integration),
    ]
)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StorageDriver]:
    driver: StorageDriver
    if request.param == "local":
        driver = LocalStorageDriver(tmp_path / "store")
    elif request.param == "s3":
        moto: dict[str, str] = request.getfixturevalue("moto_server")
        # Not us-east-1: there AWS (and moto) answer success when you re-create a bucket you own, a
        # documented legacy behaviour the driver passes on (see S3StorageDriver.create_container).
        driver = S3StorageDriver(
            moto["access_key_id"], moto["secret_access_key"], region="eu-west-1", endpoint=moto["endpoint"]
        )
    elif request.param == "azure":
        azurite: dict[str, str] = request.getfixturevalue("azurite_server")
        driver = AzureBlobsStorageDriver(
            azurite["account_name"], azurite["account_key"], endpoint=azurite["endpoint"]
        )
    else:
        swift: dict[str, str] = request.getfixturevalue("swift_server")
        driver = SwiftStorageDriver(swift["auth_user"], swift["auth_key"], auth_url=swift["auth_url"])
    async with driver:
        yield driver


def unique(prefix: str = "contract") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def box(storage: StorageDriver) -> AsyncIterator[Container]:
    container = await storage.create_container(unique())
    yield container
    for obj in await storage.list_container_objects(container):
        await storage.delete_object(obj)
    await storage.delete_container(container)


async def read(storage: StorageDriver, container: Container, name: str) -> bytes:
    obj = await storage.get_object(container.name, name)
    return b"".join([chunk async for chunk in storage.download_object_as_stream(obj)])


# --------------------------------------------------------------------------------------------- containers


async def test_container_life_cycle(storage: StorageDriver) -> None:
    name = unique()
    created = await storage.create_container(name)
    assert created.name == name
    assert (await storage.get_container(name)).name == name
    assert name in [c.name async for c in storage.iterate_containers()]
    assert name in [c.name for c in await storage.list_containers()]
    with pytest.raises(ContainerAlreadyExistsError):
        await storage.create_container(name)
    await storage.delete_container(created)
    with pytest.raises(ContainerNotFoundError):
        await storage.get_container(name)
    assert name not in [c.name for c in await storage.list_containers()]


async def test_a_container_with_objects_is_not_deleted(storage: StorageDriver, box: Container) -> None:
    await storage.upload_object_via_stream(b"x", box, "keep")
    with pytest.raises(ContainerNotEmptyError):
        await storage.delete_container(box)
    assert (await storage.get_object(box.name, "keep")).size == 1


async def test_missing_containers(storage: StorageDriver) -> None:
    name = unique("missing")
    with pytest.raises(ContainerNotFoundError):
        await storage.get_container(name)
    with pytest.raises((ContainerNotFoundError, ObjectNotFoundError)):
        await storage.get_object(name, "nothing")


# ------------------------------------------------------------------------------------------------ uploads


def sources(tmp_path: Path) -> Iterator[tuple[str, object]]:
    path = tmp_path / "source.bin"
    path.write_bytes(DATA)
    yield "bytes", DATA
    yield "path", path
    yield "file", io.BytesIO(DATA)
    yield "iterable", [DATA[i : i + 10_000] for i in range(0, len(DATA), 10_000)]

    async def agen() -> AsyncIterator[bytes]:
        for i in range(0, len(DATA), 7_777):
            yield DATA[i : i + 7_777]

    yield "async-iterable", agen()


async def test_upload_from_every_source_kind(storage: StorageDriver, box: Container, tmp_path: Path) -> None:
    md5 = hashlib.md5(DATA).hexdigest()
    for kind, source in sources(tmp_path):
        obj = await storage.upload_object_via_stream(source, box, f"src/{kind}")  # type: ignore[arg-type]
        assert (obj.name, obj.size) == (f"src/{kind}", len(DATA)), kind
        fetched = await storage.get_object(box.name, f"src/{kind}")
        assert fetched.size == len(DATA), kind
        assert fetched.hash == md5, kind  # a single-request upload's hash is its MD5 everywhere
        assert await read(storage, box, f"src/{kind}") == DATA, kind


async def test_upload_object_from_a_path(storage: StorageDriver, box: Container, tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(b"<p>hi</p>")
    obj = await storage.upload_object(path, box, "page.html", content_type="text/html", meta_data={"a": "1"})
    assert obj.size == 9
    fetched = await storage.get_object(box.name, "page.html")
    assert fetched.content_type == "text/html"
    assert fetched.meta_data == {"a": "1"}


async def test_content_type_and_meta_data_round_trip(storage: StorageDriver, box: Container) -> None:
    if not storage.supports(Capability.OBJECT_META_DATA):
        pytest.skip("no object meta data")
    meta = {"owner": "ana", "purpose": "contract-test"}
    await storage.upload_object_via_stream(
        b"{}", box, "doc.json", content_type="application/json", meta_data=meta
    )
    fetched = await storage.get_object(box.name, "doc.json")
    assert fetched.content_type == "application/json"
    assert fetched.meta_data == meta
    assert fetched.container_name == box.name


async def test_uploading_again_replaces_the_object(storage: StorageDriver, box: Container) -> None:
    await storage.upload_object_via_stream(b"first version", box, "same")
    await storage.upload_object_via_stream(b"second", box, "same")
    assert await read(storage, box, "same") == b"second"
    assert (await storage.get_object(box.name, "same")).size == 6


async def test_an_empty_object(storage: StorageDriver, box: Container) -> None:
    obj = await storage.upload_object_via_stream(b"", box, "empty")
    assert obj.size == 0
    assert await read(storage, box, "empty") == b""
    assert (await storage.get_object(box.name, "empty")).hash == hashlib.md5(b"").hexdigest()


async def test_uploading_into_a_missing_container(storage: StorageDriver, box: Container) -> None:
    await storage.delete_container(box)
    with pytest.raises(ContainerNotFoundError):
        await storage.upload_object_via_stream(b"x", box, "orphan")
    await storage.create_container(box.name)  # for the fixture's clean-up


# ------------------------------------------------------------------------------------------------ listing


async def test_listing_is_in_name_order_and_filters_by_prefix(storage: StorageDriver, box: Container) -> None:
    names = ["b/2", "a", "b/1", "c/d/e", "b/10", "ba"]
    for name in names:
        await storage.upload_object_via_stream(name.encode(), box, name)

    listed = [o.name async for o in storage.iterate_container_objects(box)]
    assert listed == sorted(names)
    assert [o.name for o in await storage.list_container_objects(box, prefix="b/")] == ["b/1", "b/10", "b/2"]
    with_b = await storage.list_container_objects(box, prefix="b")
    assert [o.name for o in with_b] == ["b/1", "b/10", "b/2", "ba"]
    assert await storage.list_container_objects(box, prefix="zzz") == []
    by_name = {o.name: o for o in await storage.list_container_objects(box)}
    assert by_name["c/d/e"].size == len(b"c/d/e")
    assert by_name["c/d/e"].hash == hashlib.md5(b"c/d/e").hexdigest()


async def test_an_empty_container_lists_nothing(storage: StorageDriver, box: Container) -> None:
    assert [o async for o in storage.iterate_container_objects(box)] == []


# ---------------------------------------------------------------------------------------------- downloads


async def test_streams_honour_chunk_size(storage: StorageDriver, box: Container) -> None:
    await storage.upload_object_via_stream(DATA, box, "chunked")
    obj = await storage.get_object(box.name, "chunked")
    chunks = [c async for c in storage.download_object_as_stream(obj, chunk_size=65_536)]
    assert b"".join(chunks) == DATA
    assert all(len(c) == 65_536 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 65_536


async def test_ranges_are_end_exclusive(storage: StorageDriver, box: Container, tmp_path: Path) -> None:
    obj = await storage.upload_object_via_stream(DATA, box, "ranged")
    if not storage.supports(Capability.RANGE_DOWNLOADS):
        with pytest.raises(NotSupportedError):
            await storage.download_object_range(obj, tmp_path / "r", 0, 1)
        return

    async def part(start: int, end: int | None) -> bytes:
        return b"".join([c async for c in storage.download_object_range_as_stream(obj, start, end)])

    assert await part(0, 1) == DATA[:1]
    assert await part(10, 20) == DATA[10:20]
    assert await part(len(DATA) - 5, None) == DATA[-5:]
    assert await part(1000, len(DATA)) == DATA[1000:]
    path = await storage.download_object_range(obj, tmp_path / "range.bin", 100, 300)
    assert path.read_bytes() == DATA[100:300]


async def test_download_to_a_path(storage: StorageDriver, box: Container, tmp_path: Path) -> None:
    obj = await storage.upload_object_via_stream(DATA, box, "to-disk")
    target = tmp_path / "out.bin"
    assert await storage.download_object(obj, target) == target
    assert target.read_bytes() == DATA
    with pytest.raises(DestinationExistsError):
        await storage.download_object(obj, target)
    target.write_bytes(b"old")
    await storage.download_object(obj, target, overwrite_existing=True)
    assert target.read_bytes() == DATA


async def test_convenience_methods_on_the_models(storage: StorageDriver, tmp_path: Path) -> None:
    container = await storage.create_container(unique())
    obj = await container.upload_object_via_stream(b"via the model", "m")
    assert [o.name async for o in container.iterate_objects()] == ["m"]
    assert b"".join([c async for c in obj.as_stream()]) == b"via the model"
    assert (await obj.download(tmp_path / "m.bin")).read_bytes() == b"via the model"
    assert (await container.get_object("m")).size == len(b"via the model")
    await obj.delete()
    await container.delete()
    with pytest.raises(ContainerNotFoundError):
        await storage.get_container(container.name)


# ------------------------------------------------------------------------------------------------ deletes


async def test_deleting_an_object(storage: StorageDriver, box: Container) -> None:
    obj = await storage.upload_object_via_stream(b"bye", box, "gone")
    await storage.delete_object(obj)
    with pytest.raises(ObjectNotFoundError):
        await storage.get_object(box.name, "gone")
    assert [o.name for o in await storage.list_container_objects(box)] == []
    # Deleting what is already gone: S3 answers DELETE of a missing key with 204 and cannot tell, so the
    # contract allows success or ObjectNotFoundError; it must not be any other error.
    with contextlib.suppress(ObjectNotFoundError):
        await storage.delete_object(obj)


# -------------------------------------------------------------------------------------------- CDN verbs


async def test_cdn_verbs_are_supported_or_say_so(storage: StorageDriver, box: Container) -> None:
    obj = await storage.upload_object_via_stream(b"cdn", box, "cdn")
    if not storage.supports(Capability.CONTAINER_CDN):
        with pytest.raises(NotSupportedError):
            await storage.enable_container_cdn(box)
        with pytest.raises(NotSupportedError):
            await storage.get_container_cdn_url(box)
    if not storage.supports(Capability.OBJECT_CDN):
        with pytest.raises(NotSupportedError):
            await storage.enable_object_cdn(obj)
    if not storage.supports(Capability.SIGNED_URLS) and not storage.supports(Capability.CONTAINER_CDN):
        with pytest.raises(NotSupportedError):
            await storage.get_object_cdn_url(obj)
