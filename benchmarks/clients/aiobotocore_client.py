"""aiobotocore (botocore on aiohttp): the async AWS SDK most Python projects use."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _common import BUCKET, KEY_ID, MIB, SECRET, body_chunks, result, run, small_key


def _client(p: dict[str, Any], service: str = "s3", pool: int = 64) -> Any:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(
        max_pool_connections=pool,
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return get_session().create_client(
        service,
        endpoint_url=f"http://127.0.0.1:{p['port']}",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
        config=config,
    )


async def _warm(client: Any, service: str = "s3") -> None:
    """One untimed request first, as every client does (lazy set-up and the first connection)."""
    if service == "ec2":
        await client.describe_instances()
    else:
        await client.head_bucket(Bucket=BUCKET)


async def w1(p: dict[str, Any]) -> dict[str, Any]:
    async with _client(p) as s3:
        await _warm(s3)
        t0 = time.perf_counter()
        count = 0
        async for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, PaginationConfig={"PageSize": 1000}
        ):
            count += len(page.get("Contents", ()))
        return result(t0, 0, count)


async def _many(p: dict[str, Any], job: Any, conc: int, n: int, service: str = "s3") -> dict[str, Any]:
    async with _client(p, service, pool=conc) as client:
        todo = iter(range(n))
        total = 0

        async def worker() -> None:
            nonlocal total
            for i in todo:
                got = await job(client, i)
                total += got

        await _warm(client, service)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        return result(t0, total, n)


async def w2(p: dict[str, Any]) -> dict[str, Any]:
    async def job(s3: Any, i: int) -> int:
        resp = await s3.get_object(Bucket=BUCKET, Key=small_key(i))
        async with resp["Body"] as body:
            return len(await body.read())

    return await _many(p, job, p["conc"], p["n"])


async def w3(p: dict[str, Any]) -> dict[str, Any]:
    data = bytes(p["size"])

    async def job(s3: Any, i: int) -> int:
        await s3.put_object(Bucket=BUCKET, Key=f"up/{small_key(i)}", Body=data)
        return len(data)

    return await _many(p, job, p["conc"], p["n"])


async def w4(p: dict[str, Any]) -> dict[str, Any]:
    async with _client(p) as s3:
        await _warm(s3)
        t0 = time.perf_counter()
        resp = await s3.get_object(Bucket=BUCKET, Key="big")
        n = 0
        async with resp["Body"] as body:
            while chunk := await body.read(MIB):
                n += len(chunk)
        return result(t0, n, 1)


async def w5(p: dict[str, Any]) -> dict[str, Any]:
    """A generator has no length, so: multipart, 8 MiB parts, 8 in flight (what TransferManager does)."""
    part = 8 * MIB
    async with _client(p) as s3:
        await _warm(s3)
        t0 = time.perf_counter()
        up = await s3.create_multipart_upload(Bucket=BUCKET, Key="up/big")
        sem = asyncio.Semaphore(8)
        parts: list[dict[str, Any]] = []
        tasks = []

        async def send(number: int, data: bytes) -> None:
            try:
                r = await s3.upload_part(
                    Bucket=BUCKET, Key="up/big", UploadId=up["UploadId"], PartNumber=number, Body=data
                )
                parts.append({"PartNumber": number, "ETag": r["ETag"]})
            finally:
                sem.release()

        buf = bytearray()
        number = 0
        for chunk in body_chunks(p["big"]):
            buf += chunk
            if len(buf) >= part:
                await sem.acquire()
                number += 1
                tasks.append(asyncio.create_task(send(number, bytes(buf))))
                buf.clear()
        if buf:
            await sem.acquire()
            number += 1
            tasks.append(asyncio.create_task(send(number, bytes(buf))))
        await asyncio.gather(*tasks)
        parts.sort(key=lambda x: x["PartNumber"])
        await s3.complete_multipart_upload(
            Bucket=BUCKET, Key="up/big", UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
        )
        return result(t0, p["big"], 1)


async def w6(p: dict[str, Any]) -> dict[str, Any]:
    async def job(ec2: Any, i: int) -> int:
        await ec2.run_instances(
            ImageId="ami-1", InstanceType="t3.micro", MinCount=1, MaxCount=1, ClientToken=f"t{i}"
        )
        return 0

    return await _many(p, job, p["node_conc"], p["nodes"], service="ec2")


def w7(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    from aiobotocore.session import get_session  # noqa: F401

    async def build() -> None:
        async with _client({"port": 9}):
            pass

    asyncio.run(build())
    return result(t0, 0, 1)


def _async(fn: Any) -> Any:
    return lambda p: asyncio.run(fn(p))


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
