"""Shared by every benchmark client (standard library only: each client runs in its own virtualenv).

A client is run as ``python <client>.py <workload> '<json params>'``; it sets up (imports, connects,
builds its objects) untimed, times only the workload with ``time.perf_counter`` and prints one JSON line
``{"seconds": ..., "bytes": ..., "items": ...}``. The runner reads the peak RSS of the process itself.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

MIB = 1 << 20
PATTERN = (b"0123456789abcdef" * (MIB // 16))[:MIB]
BUCKET = "b"
KEY_ID, SECRET = "AKIDBENCHMARK", "benchmark-secret"


def body_chunks(total: int, chunk: int = MIB) -> Iterator[bytes]:
    """``total`` bytes of generated data, ``chunk`` at a time (the upload source of W5)."""
    left = total
    while left > 0:
        n = min(chunk, left)
        yield PATTERN if n == len(PATTERN) else PATTERN[:n]
        left -= n


async def abody_chunks(total: int, chunk: int = MIB) -> AsyncIterator[bytes]:
    for piece in body_chunks(total, chunk):
        yield piece


def small_key(i: int) -> str:
    return f"small/{i:05d}"


def run(workloads: dict[str, Callable[[dict[str, Any]], Any]]) -> None:
    """Parse argv, run the named workload (sync callables or coroutine factories), print the result."""
    name, params = sys.argv[1], json.loads(sys.argv[2])
    fn = workloads.get(name)
    if fn is None:
        print(json.dumps({"skip": f"{name} not supported"}), flush=True)
        return
    result = fn(params)
    print(json.dumps(result), flush=True)


def result(t0: float, nbytes: int, items: int) -> dict[str, Any]:
    """The JSON line a workload prints: seconds since ``t0``, bytes moved, items handled."""
    return {"seconds": time.perf_counter() - t0, "bytes": nbytes, "items": items}
