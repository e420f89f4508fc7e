"""The ceiling: raw asyncio streams, hand-written HTTP/1.1, a regex for listings, no signing, no checks."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from typing import Any

from _common import BUCKET, MIB, body_chunks, result, run, small_key

_KEY = re.compile(rb"<Key>")
_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.r, self.w = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4 * MIB)
        return cls(reader, writer)

    async def head(self) -> int:
        """Read a response head; return its Content-Length."""
        raw = await self.r.readuntil(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length: *(\d+)", raw)
        return int(m.group(1)) if m else 0

    async def request(self, method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
        self.w.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n".encode()
            + body
        )
        n = await self.head()
        return await self.r.readexactly(n) if n else b""


async def w1(p: dict[str, Any]) -> dict[str, Any]:
    c = await Conn.open(p["port"])
    t0 = time.perf_counter()
    count, token = 0, b""
    while True:
        q = f"/{BUCKET}?list-type=2&max-keys=1000" + (
            f"&continuation-token={token.decode()}" if token else ""
        )
        body = await c.request("GET", q)
        count += len(_KEY.findall(body))
        m = _TOKEN.search(body)
        if not m:
            break
        token = m.group(1)
    return result(t0, 0, count)


async def _pool(p: dict[str, Any], conc: int, job: Any, n: int) -> dict[str, Any]:
    conns = [await Conn.open(p["port"]) for _ in range(conc)]
    todo = iter(range(n))
    total = 0

    async def worker(c: Conn) -> None:
        nonlocal total
        for i in todo:
            n = await job(c, i)
            total += n

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return result(t0, total, n)


async def w2(p: dict[str, Any]) -> dict[str, Any]:
    async def job(c: Conn, i: int) -> int:
        return len(await c.request("GET", f"/{BUCKET}/{small_key(i)}"))

    return await _pool(p, p["conc"], job, p["n"])


async def w3(p: dict[str, Any]) -> dict[str, Any]:
    data = bytes(p["size"])

    async def job(c: Conn, i: int) -> int:
        await c.request("PUT", f"/{BUCKET}/up/{small_key(i)}", data)
        return len(data)

    return await _pool(p, p["conc"], job, p["n"])


async def w4(p: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    sock = socket.create_connection(("127.0.0.1", p["port"]))
    sock.setblocking(False)
    buf = bytearray(4 * MIB)
    view = memoryview(buf)
    t0 = time.perf_counter()
    await loop.sock_sendall(sock, f"GET /{BUCKET}/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    got = 0
    while (end := buf.find(b"\r\n\r\n", 0, got)) < 0:
        got += await loop.sock_recv_into(sock, view[got:])
    m = re.search(rb"(?i)content-length: *(\d+)", buf[:end])
    total = int(m.group(1)) if m else 0
    left = total - (got - end - 4)
    while left > 0:
        left -= await loop.sock_recv_into(sock, view[: min(left, len(view))])
    sock.close()
    return result(t0, total, 1)


async def w5(p: dict[str, Any]) -> dict[str, Any]:
    c = await Conn.open(p["port"])
    t0 = time.perf_counter()
    size = p["big"]
    c.w.write(f"PUT /{BUCKET}/up/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n\r\n".encode())
    for chunk in body_chunks(size):
        c.w.write(chunk)
        await c.w.drain()
    n = await c.head()
    await c.r.readexactly(n)
    return result(t0, size, 1)


async def w6(p: dict[str, Any]) -> dict[str, Any]:
    async def job(c: Conn, i: int) -> int:
        form = (
            f"Action=RunInstances&ImageId=ami-1&InstanceType=t3.micro&MinCount=1&MaxCount=1&ClientToken=t{i}"
        )
        body = await c.request(
            "POST", "/", form.encode(), "Content-Type: application/x-www-form-urlencoded\r\n"
        )
        assert b"instanceId" in body
        return 0

    return await _pool(p, p["node_conc"], job, p["nodes"])


def w7(p: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    return result(t0, 0, 1)  # nothing to import: the baseline of an interpreter with asyncio loaded


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
