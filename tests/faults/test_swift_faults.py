"""The Swift driver against a real Swift (tempauth) behind the fault proxy."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from asynccloud.drivers.openstack import SwiftStorageDriver
from asynccloud.errors import (
    ContainerNotFoundError,
    IntegrityError,
    ObjectNotFoundError,
    ProviderError,
    TransportError,
)
from asynccloud.models import Object
from tests.faults.conftest import FAST
from tests.faults.proxy import ANSWERED, FaultProxy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from asynccloud.models import Container
    from tests.faults.conftest import Tally

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]

DATA = os.urandom(48 * 1024 + 3)
OBJECT_PATH = r"^/v1/[^/]+/[^/?]+/[^?]+$"


def connect(server: dict[str, str], proxy: FaultProxy, **options: object) -> SwiftStorageDriver:
    auth_url = server["auth_url"].replace(server["endpoint"], proxy.url)
    settings: dict[str, object] = {"auth_url": auth_url, "retry": FAST, **options}
    return SwiftStorageDriver(server["auth_user"], server["auth_key"], **settings)  # type: ignore[arg-type]


@pytest.fixture
async def swift(swift_upstream: dict[str, str], swift_proxy: FaultProxy) -> AsyncIterator[SwiftStorageDriver]:
    timeout = httpx.Timeout(5.0, read=0.5)
    async with connect(swift_upstream, swift_proxy, timeout=timeout, part_size=16 * 1024) as driver:
        yield driver


@pytest.fixture
async def box(swift: SwiftStorageDriver, swift_proxy: FaultProxy) -> AsyncIterator[Container]:
    container = await swift.create_container(f"faults-{uuid.uuid4().hex[:10]}")
    yield container
    swift_proxy.clear()
    for obj in await swift.list_container_objects(container):
        await obj.delete()
    await container.delete()


async def read_all(swift: SwiftStorageDriver, obj: Object, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([c async for c in swift.download_object_range_as_stream(obj, start, end)])


@pytest.mark.parametrize("kind", [*ANSWERED, "reset_before", "reset_after", "slow_first_byte"])
async def test_idempotent_calls_ride_out_faults(
    kind: str, swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    small = DATA[:1000]
    swift_proxy.schedule(kind, method="PUT", path=OBJECT_PATH, count=2)
    obj = await box.upload_object_via_stream(small, "small")
    swift_proxy.schedule(kind, method="HEAD", path=OBJECT_PATH, count=2)
    obj = await swift.get_object(box.name, "small")
    swift_proxy.schedule(kind, method="GET", path=r"format=json", count=2)
    assert [o.name for o in await box.list_objects()] == ["small"]
    swift_proxy.schedule(kind, method="GET", path=OBJECT_PATH, count=2)
    assert hashlib.sha256(await read_all(swift, obj)).digest() == hashlib.sha256(small).digest()
    swift_proxy.schedule(kind, method="DELETE", path=OBJECT_PATH, count=2)
    # After a lost answer (reset_after, slow_first_byte) the first DELETE did delete and Swift answers the
    # retry 404: the driver knows an earlier attempt may have acted and reports success.
    await obj.delete()
    assert [o.name for o in await box.list_objects()] == []
    assert swift_proxy.pending() == 0
    with pytest.raises(ObjectNotFoundError):  # a 404 to a first attempt is still "not found"
        await obj.delete()
    tally.add("swift: idempotent calls under faults", 5)
    tally.add("swift: bytes verified by hash", len(small))


@pytest.mark.parametrize("kind", ["truncate", "lie_length", "reset_mid_body", "stall_body", "malformed"])
@pytest.mark.parametrize("ranged", [False, True], ids=["whole", "range"])
async def test_download_is_never_short(
    kind: str, ranged: bool, swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    obj = await box.upload_object_via_stream(DATA[:10_000], "victim")
    start, end = (100, 9000) if ranged else (0, None)
    expected = DATA[:10_000][start:end]
    swift_proxy.schedule(kind, method="GET", path=OBJECT_PATH)
    try:
        data = await read_all(swift, obj, start, end)
    except (IntegrityError, TransportError) as exc:
        tally.answer(f"download with {kind}: {type(exc).__name__}")
    else:
        assert data == expected
        tally.answer(f"download with {kind}: recovered")
    assert swift_proxy.pending() == 0
    tally.add("swift: downloads under body faults")
    again = await read_all(swift, obj, start, end)
    assert hashlib.md5(again).digest() == hashlib.md5(expected).digest()
    tally.add("swift: bytes verified by hash", len(again))


async def test_slo_upload_rides_out_segment_faults(
    swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    for kind in ("503", "reset_after", "429_retry_after", "500"):
        swift_proxy.schedule(kind, method="PUT", path=r"_segments/")
    swift_proxy.schedule("503", method="PUT", path=r"multipart-manifest=put")
    obj = await box.upload_object_via_stream(DATA, "large")
    assert swift_proxy.pending() == 0
    got = await read_all(swift, obj)
    assert hashlib.sha256(got).digest() == hashlib.sha256(DATA).digest()
    tally.add("swift: bytes verified by hash", len(got))
    tally.add("swift: SLO uploads under faults")
    await obj.delete()


async def test_failed_slo_upload_leaves_no_segments(
    swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    swift_proxy.schedule("503", method="PUT", path=r"_segments/.*/00000002", count=FAST.max_attempts)
    swift_proxy.schedule("503", method="PUT", path=r"_segments/", count=0)
    with pytest.raises(ProviderError):
        await box.upload_object_via_stream(DATA, "doomed")
    segments = await swift.list_containers()
    leftovers = [
        o.name
        for c in segments
        if c.name == f"{box.name}_segments"
        for o in await swift.list_container_objects(c)
    ]
    assert leftovers == []
    assert [o.name for o in await box.list_objects()] == []
    tally.add("swift: failed SLO uploads cleaned up")


async def test_post_is_not_duplicated(
    swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    swift_proxy.schedule("reset_after", method="POST")
    with pytest.raises(TransportError):
        await swift.ex_set_account_metadata_temp_url_key("k" * 16)
    assert swift_proxy.forwarded_count("POST", r"^/v1/") == 1
    swift_proxy.schedule("503", method="POST")  # an error answer to a POST is not retried either
    with pytest.raises(ProviderError):
        await swift.ex_set_account_metadata_temp_url_key("k" * 16)
    assert swift_proxy.forwarded_count("POST", r"^/v1/") == 1
    await swift.ex_set_account_metadata_temp_url_key("k" * 16)
    assert swift_proxy.forwarded_count("POST", r"^/v1/") == 2
    assert swift_proxy.duplicates("POST") == {"/v1/AUTH_test": 2}  # the two deliberate calls, no more
    tally.add("swift: non-idempotent POSTs under faults", 2)


# ------------------------------------------------------------------ deletes whose answer was lost


async def test_container_delete_after_a_lost_answer_is_done(
    swift: SwiftStorageDriver, swift_proxy: FaultProxy, tally: Tally
) -> None:
    name = f"faults-{uuid.uuid4().hex[:10]}"
    container = await swift.create_container(name)
    swift_proxy.schedule("reset_after", method="DELETE", path=rf"^/v1/[^/]+/{name}$")
    await container.delete()  # Swift deleted it, the answer was lost, the retry got 404: done
    assert swift_proxy.pending() == 0
    assert swift_proxy.forwarded_count("DELETE", rf"^/v1/[^/]+/{name}$") == 2
    with pytest.raises(ContainerNotFoundError):  # a 404 to a first attempt is still "not found"
        await container.delete()
    tally.add("swift: deletes whose answer was lost")


async def test_large_object_delete_after_a_lost_answer_is_done(
    swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    obj = await box.upload_object_via_stream(DATA, "large")  # 4 segments of 16 KiB: a static large object
    assert obj.extra["static_large_object"] is True
    swift_proxy.schedule("reset_after", method="DELETE", path=r"multipart-manifest=delete")
    await obj.delete()
    assert swift_proxy.pending() == 0
    assert swift_proxy.forwarded_count("DELETE", r"multipart-manifest=delete") == 2
    assert [o.name for o in await box.list_objects()] == []
    segments = await swift.get_container(f"{box.name}_segments")
    assert await segments.list_objects() == []  # the first attempt deleted the segments with the manifest
    tally.add("swift: deletes whose answer was lost")


async def test_delete_of_an_object_of_unknown_kind_after_a_lost_answer_is_done(
    swift: SwiftStorageDriver, box: Container, swift_proxy: FaultProxy, tally: Tally
) -> None:
    await box.upload_object_via_stream(b"plain", "plain")
    # Built by hand, the object's kind is unknown: a manifest delete (refused: not a manifest), then a plain
    # DELETE, whose answer is lost.
    obj = swift.bind(Object(name="plain", size=5, container_name=box.name))
    swift_proxy.schedule("reset_after", method="DELETE", path=OBJECT_PATH)
    await obj.delete()
    assert swift_proxy.pending() == 0
    assert swift_proxy.forwarded_count("DELETE", OBJECT_PATH) == 2
    assert [o.name for o in await box.list_objects()] == []
    with pytest.raises(ObjectNotFoundError):
        await obj.delete()
    tally.add("swift: deletes whose answer was lost")
