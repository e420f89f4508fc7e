"""Plain httpx: one AsyncClient (max 64 connections), no signing, no checks: what most wrappers do."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from _common import BUCKET, MIB, abody_chunks, result, run, small_key

_KEY = re.compile(rb"<Key>")
_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")


def _client(p: dict[str, Any]) -> Any:
    import httpx

    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{p['port']}",
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        timeout=60,
    )


async def _warm(c: Any) -> None:
    """One untimed request first, as every client does (lazy set-up and the first connection)."""
    await c.head(f"/{BUCKET}")


async def w1(p: dict[str, Any]) -> dict[str, Any]:
    async with _client(p) as c:
        await _warm(c)
        t0 = time.perf_counter()
        count, token = 0, None
        while True:
            params = {"list-type": "2", "max-keys": "1000"}
            if token:
                params["continuation-token"] = token
            body = (await c.get(f"/{BUCKET}", params=params)).content
            count += len(_KEY.findall(body))
            m = _TOKEN.search(body)
            if not m:
                break
            token = m.group(1).decode()
        return result(t0, 0, count)


async def _many(p: dict[str, Any], job: Any, conc: int, n: int) -> dict[str, Any]:
    async with _client(p) as c:
        todo = iter(range(n))
        total = 0

        async def worker() -> None:
            nonlocal total
            for i in todo:
                n = await job(c, i)
                total += n

        await _warm(c)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        return result(t0, total, n)


async def w2(p: dict[str, Any]) -> dict[str, Any]:
    async def job(c: Any, i: int) -> int:
        return len((await c.get(f"/{BUCKET}/{small_key(i)}")).content)

    return await _many(p, job, p["conc"], p["n"])


async def w3(p: dict[str, Any]) -> dict[str, Any]:
    data = bytes(p["size"])

    async def job(c: Any, i: int) -> int:
        (await c.put(f"/{BUCKET}/up/{small_key(i)}", content=data)).raise_for_status()
        return len(data)

    return await _many(p, job, p["conc"], p["n"])


async def w4(p: dict[str, Any]) -> dict[str, Any]:
    async with _client(p) as c:
        await _warm(c)
        t0 = time.perf_counter()
        n = 0
        async with c.stream("GET", f"/{BUCKET}/big") as r:
            async for chunk in r.aiter_raw(MIB):
                n += len(chunk)
        return result(t0, n, 1)


async def w5(p: dict[str, Any]) -> dict[str, Any]:
    async with _client(p) as c:
        await _warm(c)
        t0 = time.perf_counter()
        r = await c.put(
            f"/{BUCKET}/up/big", content=abody_chunks(p["big"]), headers={"Content-Length": str(p["big"])}
        )
        r.raise_for_status()
        return result(t0, p["big"], 1)


async def w6(p: dict[str, Any]) -> dict[str, Any]:
    async def job(c: Any, i: int) -> int:
        form = {
            "Action": "RunInstances",
            "ImageId": "ami-1",
            "InstanceType": "t3.micro",
            "MinCount": "1",
            "MaxCount": "1",
            "ClientToken": f"t{i}",
        }
        (await c.post("/", data=form)).raise_for_status()
        return 0

    return await _many(p, job, p["node_conc"], p["nodes"])


def w7(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import httpx

    httpx.AsyncClient()
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
