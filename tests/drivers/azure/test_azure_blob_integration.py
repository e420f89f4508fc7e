"""The Azure Blob driver against Azurite (the Azure Storage emulator) on 127.0.0.1, asyncio and trio.

The portable verbs are in the storage contract suite (``tests/contract/``); here: listing pages, block
uploads, cancellation, SAS URLs with a plain HTTP client, Shared Key rejection.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from asynccloud import (
    AuthenticationError,
    DriverType,
    ObjectNotFoundError,
    PermissionDeniedError,
    Provider,
    get_driver,
)
from asynccloud.drivers.azure import AzureBlobsStorageDriver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from asynccloud.models import Container

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(120)]

MIB = 1024 * 1024


def connect(server: dict[str, str], **options: object) -> AzureBlobsStorageDriver:
    return AzureBlobsStorageDriver(
        server["account_name"],
        server["account_key"],
        endpoint=server["endpoint"],
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def azure(azurite_server: dict[str, str]) -> AsyncIterator[AzureBlobsStorageDriver]:
    async with connect(azurite_server, part_size=MIB, max_concurrency=3, page_size=7) as driver:
        yield driver


@pytest.fixture
async def box(azure: AzureBlobsStorageDriver) -> AsyncIterator[Container]:
    container = await azure.create_container(f"box-{uuid.uuid4().hex[:12]}")
    yield container
    for obj in await azure.list_container_objects(container):
        await obj.delete()
    await container.delete()


def test_registry_resolves_azure_blobs() -> None:
    assert get_driver(DriverType.STORAGE, Provider.AZURE_BLOBS) is AzureBlobsStorageDriver


async def test_listings_follow_markers(azure: AzureBlobsStorageDriver, box: Container) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(azure.upload_object_via_stream, f"{i}".encode(), box, f"k/{i:03d}")
    names = [o.name async for o in box.iterate_objects()]  # page_size 7: five pages
    assert names == [f"k/{i:03d}" for i in range(30)]
    assert [o.name for o in await azure.list_container_objects(box, prefix="k/02")] == [
        f"k/{i:03d}" for i in range(20, 30)
    ]
    assert box.name in [c.name async for c in azure.iterate_containers()]


async def test_a_large_upload_goes_in_blocks_and_keeps_its_md5(
    azure: AzureBlobsStorageDriver, box: Container
) -> None:
    data = hashlib.sha256(b"seed").digest() * (5 * MIB // 32 + 1000)  # 5 MiB + a bit: six blocks of 1 MiB

    async def source() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 300_000):
            yield data[i : i + 300_000]

    obj = await box.upload_object_via_stream(source(), "big.bin", meta_data={"kind": "blocks"})
    assert obj.size == len(data)
    assert obj.hash == hashlib.md5(data).hexdigest()
    fetched = await azure.get_object(box.name, "big.bin")
    assert (fetched.size, fetched.hash, fetched.meta_data) == (len(data), obj.hash, {"kind": "blocks"})
    assert b"".join([c async for c in fetched.as_stream(chunk_size=MIB)]) == data


async def test_an_upload_of_one_part_is_a_single_put_blob(
    azure: AzureBlobsStorageDriver, box: Container
) -> None:
    data = bytes(range(256)) * (MIB // 256)  # exactly part_size: one Put Blob, sent in slices
    obj = await box.upload_object_via_stream(data, "one.bin")
    fetched = await azure.get_object(box.name, "one.bin")
    assert (fetched.size, fetched.hash) == (MIB, hashlib.md5(data).hexdigest())
    assert fetched.extra["blob_type"] == "BlockBlob"
    assert obj.hash == fetched.hash


async def test_a_cancelled_block_upload_leaves_no_blob(
    azure: AzureBlobsStorageDriver, box: Container
) -> None:
    sent = anyio.Event()

    async def source() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * MIB
        sent.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(azure.upload_object_via_stream, source(), box, "never.bin")
        await sent.wait()
        tg.cancel_scope.cancel()
    with pytest.raises(ObjectNotFoundError):
        await azure.get_object(box.name, "never.bin")
    assert await azure.list_container_objects(box) == []


async def test_sas_urls_work_with_a_plain_http_client(azure: AzureBlobsStorageDriver, box: Container) -> None:
    obj = await box.upload_object_via_stream(b"shared via SAS", "shared.txt", content_type="text/plain")
    read_url = await obj.get_cdn_url()
    async with httpx.AsyncClient() as client:
        got = await client.get(read_url)
        assert (got.status_code, got.content) == (200, b"shared via SAS")
        refused = await client.delete(read_url)  # a read SAS grants no delete
        assert refused.status_code == 403

        target = obj.model_copy(update={"name": "uploaded.txt"})
        write_url = await azure.get_object_cdn_url(target, method="PUT", expires=60)
        put = await client.put(write_url, content=b"via SAS", headers={"x-ms-blob-type": "BlockBlob"})
        assert put.status_code == 201
    assert (await azure.get_object(box.name, "uploaded.txt")).size == len(b"via SAS")


async def test_a_wrong_key_is_refused_and_never_shown(
    azurite_server: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZw=="
    with caplog.at_level(logging.DEBUG, logger="asynccloud"):
        async with AzureBlobsStorageDriver(
            azurite_server["account_name"], wrong, endpoint=azurite_server["endpoint"]
        ) as driver:
            # Azure answers AuthenticationFailed; Azurite says AuthorizationFailure for the same thing.
            with pytest.raises((AuthenticationError, PermissionDeniedError)) as info:
                await driver.list_containers()
            assert wrong not in repr(driver)
    assert info.value.status == 403
    assert wrong not in str(info.value)
    assert wrong not in caplog.text
