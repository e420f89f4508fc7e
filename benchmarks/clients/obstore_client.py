"""obstore 0.12 (Rust object_store bindings): async API, S3Store over plain HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from _common import BUCKET, KEY_ID, MIB, SECRET, abody_chunks, result, run, small_key


def _store(p: dict[str, Any]) -> Any:
    from obstore.store import S3Store

    return S3Store(
        BUCKET,
        endpoint=f"http://127.0.0.1:{p['port']}",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )


async def w1(p: dict[str, Any]) -> dict[str, Any]:
    import obstore

    store = _store(p)
    await obstore.head_async(store, small_key(0))  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    count = 0
    async for batch in obstore.list(store, chunk_size=1000):
        count += len(batch)
    return result(t0, 0, count)


async def _many(p: dict[str, Any], job: Any) -> dict[str, Any]:
    store = _store(p)
    todo = iter(range(p["n"]))
    total = 0

    async def worker() -> None:
        nonlocal total
        for i in todo:
            n = await job(store, i)
            total += n

    import obstore

    await obstore.head_async(store, small_key(0))  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(p["conc"])))
    return result(t0, total, p["n"])


async def w2(p: dict[str, Any]) -> dict[str, Any]:
    import obstore

    async def job(store: Any, i: int) -> int:
        resp = await obstore.get_async(store, small_key(i))
        return len(await resp.bytes_async())

    return await _many(p, job)


async def w3(p: dict[str, Any]) -> dict[str, Any]:
    import obstore

    data = bytes(p["size"])

    async def job(store: Any, i: int) -> int:
        await obstore.put_async(store, f"up/{small_key(i)}", data)
        return len(data)

    return await _many(p, job)


async def w4(p: dict[str, Any]) -> dict[str, Any]:
    import obstore

    store = _store(p)
    await obstore.head_async(store, small_key(0))  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    resp = await obstore.get_async(store, "big")
    n = 0
    async for chunk in resp.stream(min_chunk_size=MIB):
        n += len(chunk)
    return result(t0, n, 1)


async def w5(p: dict[str, Any]) -> dict[str, Any]:
    import obstore

    store = _store(p)
    await obstore.head_async(store, small_key(0))  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    await obstore.put_async(store, "up/big", abody_chunks(p["big"]), chunk_size=8 * MIB, max_concurrency=8)
    return result(t0, p["big"], 1)


def w7(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import obstore  # noqa: F401

    _store({"port": 9})
    return result(t0, 0, 1)


def _async(fn: Any) -> Any:
    """Run ``fn`` and exit at once: obstore 0.12 sometimes aborts (SIGABRT) while asyncio tears down."""

    async def go(p: dict[str, Any]) -> None:
        print(json.dumps(await fn(p)), flush=True)
        os._exit(0)

    return lambda p: asyncio.run(go(p))


if __name__ == "__main__":
    run({"W1": _async(w1), "W2": _async(w2), "W3": _async(w3), "W4": _async(w4), "W5": _async(w5), "W7": w7})
