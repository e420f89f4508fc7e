"""The S3 driver against moto behind the fault proxy: retries, no duplicates, no short data, no leaks."""

from __future__ import annotations

import gc
import hashlib
import os
import re
import tracemalloc
import uuid
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from asynccloud.drivers.aws import S3StorageDriver
from asynccloud.errors import IntegrityError, ProviderError, TransportError
from tests.faults.conftest import FAST
from tests.faults.proxy import ANSWERED, FaultProxy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from asynccloud.models import Container, Object
    from tests.faults.conftest import Tally

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]

MIB = 1 << 20
DATA = os.urandom(64 * 1024 + 7)
# The hygiene run: requests, share of them faulted, concurrency.
HYGIENE_REQUESTS = 10_000
HYGIENE_RATE = 0.10
OBJECT_PATH = r"^/[^/?]+/[^?]+$"  # /bucket/key without a query: object PUT/GET/HEAD/DELETE


def connect(server: dict[str, str], proxy: FaultProxy, **options: object) -> S3StorageDriver:
    settings: dict[str, object] = {"region": server["region"], "endpoint": proxy.url, "retry": FAST}
    settings.update(options)
    return S3StorageDriver(server["access_key_id"], server["secret_access_key"], **settings)  # type: ignore[arg-type]


@pytest.fixture
async def s3(moto_upstream: dict[str, str], s3_proxy: FaultProxy) -> AsyncIterator[S3StorageDriver]:
    async with connect(moto_upstream, s3_proxy, timeout=httpx.Timeout(5.0, read=0.5)) as driver:
        yield driver


@pytest.fixture
async def bucket(s3: S3StorageDriver, s3_proxy: FaultProxy) -> AsyncIterator[Container]:
    container = await s3.create_container(f"faults-{uuid.uuid4().hex[:12]}")
    yield container
    s3_proxy.clear()
    for obj in await container.list_objects():
        await obj.delete()
    for pending in await s3.list_multipart_uploads(container):
        await s3.abort_multipart_upload(container, pending.key, pending.upload_id)
    await container.delete()


async def read_all(s3: S3StorageDriver, obj: Object, start: int = 0, end: int | None = None) -> bytes:
    parts = [chunk async for chunk in s3.download_object_range_as_stream(obj, start, end)]
    return b"".join(parts)


# --- idempotent calls succeed within the retry budget ---------------------------------------------------


@pytest.mark.parametrize("kind", [*ANSWERED, "reset_before", "reset_after", "slow_first_byte"])
async def test_idempotent_calls_ride_out_faults(
    kind: str, s3: S3StorageDriver, bucket: Container, s3_proxy: FaultProxy, tally: Tally
) -> None:
    name = f"obj-{kind}"
    calls: list[tuple[str, str, Callable[[], Awaitable[object]]]] = [
        ("PUT", OBJECT_PATH, lambda: bucket.upload_object_via_stream(DATA, name)),
        ("HEAD", OBJECT_PATH, lambda: s3.get_object(bucket.name, name)),
        ("GET", r"list-type=2", lambda: bucket.list_objects()),
    ]
    for method, path, call in calls:
        s3_proxy.schedule(kind, method=method, path=path, count=2)
        await call()
        assert s3_proxy.pending() == 0, f"{kind} was not injected into {method}"
        tally.add("s3: idempotent calls under faults")
    obj = await s3.get_object(bucket.name, name)
    s3_proxy.schedule(kind, method="GET", path=OBJECT_PATH, count=2)
    data = await read_all(s3, obj)
    assert hashlib.sha256(data).digest() == hashlib.sha256(DATA).digest()
    tally.add("s3: bytes verified by hash", len(data))
    s3_proxy.schedule(kind, method="DELETE", path=OBJECT_PATH, count=2)
    await obj.delete()
    assert s3_proxy.pending() == 0
    tally.add("s3: idempotent calls under faults", 2)


# --- downloads never return short or corrupt data ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncate", "lie_length", "reset_mid_body", "stall_body", "malformed"])
@pytest.mark.parametrize("ranged", [False, True], ids=["whole", "range"])
async def test_download_is_never_short(
    kind: str, ranged: bool, s3: S3StorageDriver, bucket: Container, s3_proxy: FaultProxy, tally: Tally
) -> None:
    obj = await bucket.upload_object_via_stream(DATA, "victim")
    start, end = (1000, 50_000) if ranged else (0, None)
    expected = DATA[start:end]
    s3_proxy.schedule(kind, method="GET", path=OBJECT_PATH)
    try:
        data = await read_all(s3, obj, start, end)
    except (IntegrityError, TransportError) as exc:
        tally.answer(f"download with {kind}: {type(exc).__name__}")
    else:  # a transparent recovery must be a complete one
        assert data == expected
        tally.answer(f"download with {kind}: recovered")
    assert s3_proxy.pending() == 0
    tally.add("s3: downloads under body faults")
    # The connection the fault spoiled is not reused: the next download is whole.
    again = await read_all(s3, obj, start, end)
    assert hashlib.md5(again).digest() == hashlib.md5(expected).digest()
    tally.add("s3: bytes verified by hash", len(again))


# --- uploads are verified end to end; failed multipart uploads leave nothing ------------------------------


async def test_multipart_upload_rides_out_part_faults(
    moto_upstream: dict[str, str], s3_proxy: FaultProxy, bucket: Container, tally: Tally
) -> None:
    data = os.urandom(11 * MIB)
    async with connect(moto_upstream, s3_proxy, part_size=5 * MIB, multipart_threshold=5 * MIB) as s3:
        for kind in ("503", "reset_after", "reset_mid_body", "500"):
            s3_proxy.schedule(kind, method="PUT", path=r"partNumber=")
        s3_proxy.schedule("503_retry_after", method="POST", path=r"\?uploads")
        s3_proxy.schedule("429", method="POST", path=r"uploadId=")
        obj = await s3.upload_object_via_stream(data, bucket, "big.bin")
        assert s3_proxy.pending() == 0
        assert s3_proxy.duplicates("POST") == {}, "an S3 POST reached the server twice"
        got = await read_all(s3, obj)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        assert await s3.list_multipart_uploads(bucket) == []
    tally.add("s3: bytes verified by hash", len(got))
    tally.add("s3: multipart uploads under faults")


async def test_failed_multipart_upload_leaves_nothing(
    moto_upstream: dict[str, str], s3_proxy: FaultProxy, bucket: Container, tally: Tally
) -> None:
    async with connect(moto_upstream, s3_proxy, part_size=5 * MIB, multipart_threshold=5 * MIB) as s3:
        s3_proxy.schedule("503", method="PUT", path=r"partNumber=2", count=FAST.max_attempts)
        with pytest.raises(ProviderError) as caught:
            await s3.upload_object_via_stream(os.urandom(11 * MIB), bucket, "doomed.bin")
        assert caught.value.status == 503
        assert await s3.list_multipart_uploads(bucket) == []
        assert [o.name for o in await bucket.list_objects()] == []
        assert s3_proxy.duplicates("POST") == {}
    tally.add("s3: failed multipart uploads cleaned up")


async def test_single_put_is_verified(
    s3: S3StorageDriver, bucket: Container, s3_proxy: FaultProxy, tally: Tally
) -> None:
    s3_proxy.schedule("reset_after", method="PUT", path=OBJECT_PATH)
    obj = await bucket.upload_object_via_stream(DATA, "put.bin")
    assert obj.hash == hashlib.md5(DATA).hexdigest()
    assert await read_all(s3, obj) == DATA
    tally.add("s3: bytes verified by hash", len(DATA))


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: CreateMultipartUpload has no client token; when its answer is lost the driver "
    "retries and the first (empty) upload stays pending until a lifecycle rule aborts it",
)
async def test_lost_create_multipart_answer_leaves_no_pending_upload(
    moto_upstream: dict[str, str], s3_proxy: FaultProxy, bucket: Container
) -> None:
    async with connect(moto_upstream, s3_proxy, part_size=5 * MIB, multipart_threshold=5 * MIB) as s3:
        s3_proxy.schedule("reset_after", method="POST", path=r"\?uploads")
        await s3.upload_object_via_stream(os.urandom(6 * MIB), bucket, "orphan.bin")
        assert await s3.list_multipart_uploads(bucket) == []


# --- connection hygiene and memory ---------------------------------------------------------------------


async def test_no_leaked_connection_and_flat_memory(
    moto_upstream: dict[str, str], s3_proxy: FaultProxy, tally: Tally
) -> None:
    kinds = (*ANSWERED, "reset_before", "reset_after", "truncate", "lie_length", "reset_mid_body")
    async with connect(moto_upstream, s3_proxy, timeout=httpx.Timeout(5.0, read=1.0)) as s3:
        container = await s3.create_container(f"hygiene-{uuid.uuid4().hex[:12]}")
        small = b"0123456789" * 100
        obj = await container.upload_object_via_stream(small, "small")
        s3_proxy.rate, s3_proxy.kinds = HYGIENE_RATE, kinds
        s3_proxy.only = re.compile(OBJECT_PATH)
        s3_proxy.record = False  # the proxy shares this process: its request log is not the client's memory
        outcomes: dict[str, int] = {}

        async def one(i: int) -> None:
            try:
                if i % 2:
                    await s3.get_object(container.name, "small")
                else:
                    assert await read_all(s3, obj) == small
            except (IntegrityError, TransportError, ProviderError) as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
            else:
                outcomes["ok"] = outcomes.get("ok", 0) + 1

        async def batch(n: int) -> None:
            # 16 workers (not n tasks at once: the event loop's task registry would grow to n entries).
            todo = iter(range(n))

            async def worker() -> None:
                for i in todo:
                    await one(i)

            async with anyio.create_task_group() as tg:
                for _ in range(16):
                    tg.start_soon(worker)

        tracemalloc.start()
        try:
            await batch(HYGIENE_REQUESTS // 4)  # warm up: pools, caches
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            await batch(HYGIENE_REQUESTS - HYGIENE_REQUESTS // 4)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        s3_proxy.clear()
        # No connection is left checked out of a pool, and the pools hold no more than their limits.
        for client in s3._http._clients:
            pool = client._transport._pool  # type: ignore[attr-defined]
            assert all(conn.is_idle() or conn.is_closed() for conn in pool.connections)
            assert len(pool.connections) <= 20
        await obj.delete()
        await container.delete()
    for _ in range(100):  # the proxy sees the client side close
        if s3_proxy.active_connections == 0:
            break
        await anyio.sleep(0.02)
    assert s3_proxy.active_connections == 0, "connections left open after aclose()"
    growth = after - before
    assert growth < 2 * MIB, f"memory grew by {growth} bytes over {HYGIENE_REQUESTS} requests"
    assert outcomes.get("ok", 0) >= HYGIENE_REQUESTS * 0.9
    assert sum(outcomes.values()) == HYGIENE_REQUESTS
    tally.add("s3: hygiene requests", HYGIENE_REQUESTS)
    tally.add("s3: hygiene memory growth (bytes)", max(growth, 0))
    tally.add("s3: leaked connections", s3_proxy.active_connections)
    for name, n in outcomes.items():
        tally.add(f"s3: hygiene outcome {name}", n)
