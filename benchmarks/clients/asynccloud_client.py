"""asynccloud, used the way its docs show (S3StorageDriver, EC2NodeDriver + provision), on asyncio or trio."""

from __future__ import annotations

import time
from typing import Any

from _common import BUCKET, KEY_ID, MIB, SECRET, abody_chunks, result, run, small_key


def _s3(p: dict[str, Any]) -> Any:
    from asynccloud.drivers.aws.s3 import S3StorageDriver

    return S3StorageDriver(KEY_ID, SECRET, region="us-east-1", endpoint=f"http://127.0.0.1:{p['port']}")


async def w1(p: dict[str, Any]) -> dict[str, Any]:
    async with _s3(p) as s3:
        bucket = await s3.get_container(BUCKET)
        t0 = time.perf_counter()
        count = 0
        async for _ in s3.iterate_container_objects(bucket):
            count += 1
        return result(t0, 0, count)


async def _many(p: dict[str, Any], job: Any) -> dict[str, Any]:
    import anyio

    async with _s3(p) as s3:
        bucket = await s3.get_container(BUCKET)
        todo = iter(range(p["n"]))
        total = 0

        async def worker() -> None:
            nonlocal total
            for i in todo:
                n = await job(s3, bucket, i)
                total += n

        t0 = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(p["conc"]):
                tg.start_soon(worker)
        return result(t0, total, p["n"])


async def w2(p: dict[str, Any]) -> dict[str, Any]:
    from asynccloud.models import Object

    async def job(s3: Any, bucket: Any, i: int) -> int:
        obj = Object(name=small_key(i), size=p["size"], container_name=bucket.name)
        n = 0
        async for chunk in s3.download_object_as_stream(obj):
            n += len(chunk)
        return n

    return await _many(p, job)


async def w3(p: dict[str, Any]) -> dict[str, Any]:
    data = bytes(p["size"])

    async def job(s3: Any, bucket: Any, i: int) -> int:
        await s3.upload_object_via_stream(data, bucket, f"up/{small_key(i)}")
        return len(data)

    return await _many(p, job)


async def w4(p: dict[str, Any]) -> dict[str, Any]:
    async with _s3(p) as s3:
        await s3.get_container(BUCKET)  # warm-up, untimed (as in every client)
        t0 = time.perf_counter()
        obj = await s3.get_object(BUCKET, "big")
        n = 0
        async for chunk in s3.download_object_as_stream(obj, chunk_size=MIB):
            n += len(chunk)
        return result(t0, n, 1)


async def w5(p: dict[str, Any]) -> dict[str, Any]:
    async with _s3(p) as s3:
        bucket = await s3.get_container(BUCKET)
        t0 = time.perf_counter()
        obj = await s3.upload_object_via_stream(abody_chunks(p["big"]), bucket, "up/big")
        assert obj.size == p["big"], obj
        return result(t0, p["big"], 1)


async def w6(p: dict[str, Any]) -> dict[str, Any]:
    from asynccloud import NodeSpec, provision
    from asynccloud.drivers.aws.ec2 import EC2NodeDriver
    from asynccloud.models import NodeImage, NodeSize

    size = NodeSize(id="t3.micro", name="t3.micro", ram=1024)
    image = NodeImage(id="ami-1")
    specs = [NodeSpec(f"n{i}", size, image) for i in range(p["nodes"])]
    async with EC2NodeDriver(
        KEY_ID, SECRET, region="us-east-1", endpoint=f"http://127.0.0.1:{p['port']}"
    ) as ec2:
        await ec2.list_nodes()  # warm-up, untimed (as in every client)
        t0 = time.perf_counter()
        res = await provision(ec2, specs, concurrency=p["node_conc"])
        res.raise_for_errors()
        return result(t0, 0, len(res.succeeded))


def w7(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import asynccloud  # noqa: F401
    from asynccloud.drivers.aws.s3 import S3StorageDriver

    S3StorageDriver(KEY_ID, SECRET, region="us-east-1", endpoint="http://127.0.0.1:9")
    return result(t0, 0, 1)


def _async(fn: Any) -> Any:
    def go(p: dict[str, Any]) -> Any:
        import anyio

        return anyio.run(fn, p, backend=p.get("backend", "asyncio"))

    return go


if __name__ == "__main__":
    run(
        {
            "W1": _async(w1),
            "W2": _async(w2),
            "W3": _async(w3),
            "W4": _async(w4),
            "W5": _async(w5),
            "W6": _async(w6),
            "W7": w7,
        }
    )
