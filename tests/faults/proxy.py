"""A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1, for integration tests against real servers.

:class:`FaultProxy` listens on a free port of 127.0.0.1 and forwards every request to an upstream server
(moto, Swift), except that, per request, it may inject a fault picked from a schedule (:meth:`schedule`:
"the next 2 PUTs on /bucket/key get a 503") or at random (``rate`` and ``kinds``). It runs its own asyncio
event loop in a daemon thread, so tests on asyncio and on trio use it alike.

Fault kinds (:data:`KINDS`):

* ``503``, ``503_retry_after``, ``429``, ``429_retry_after``, ``500``: answered by the proxy, not forwarded;
* ``reset_before``: the request is read, not forwarded, and the connection is reset (RST);
* ``reset_after``: the request is forwarded, then the connection is reset before any response byte;
* ``reset_mid_body``: headers and half the body are sent (true ``Content-Length``), then RST;
* ``truncate``: headers with the true ``Content-Length``, half the body, then a clean close (FIN);
* ``lie_length``: ``Content-Length`` says half the body and exactly that half is sent: a "complete" but
  short response that only a checksum can catch;
* ``slow_first_byte``: the response is held back ``slow_delay`` seconds;
* ``stall_body``: headers and half the body, then nothing until the client gives up;
* ``malformed``: the upstream body replaced by broken XML or JSON (same status).

It counts faults injected per kind (:attr:`injected`), requests that reached upstream (:attr:`forwarded`,
``(method, path?query)``, with the start of each body in :attr:`forwarded_bodies`) and client connections
(:attr:`active_connections`, :attr:`connections_opened`). Schedules may match the body too (the EC2 Query
API sends every call as ``POST /`` with ``Action=...`` in the form body).
Responses are buffered (tests move megabytes, not gigabytes); upstream connections are one per request.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import re
import socket
import struct
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ANSWERED", "BODY_FAULTS", "KINDS", "FaultProxy"]

ANSWERED: Final = ("503", "503_retry_after", "429", "429_retry_after", "500")
BODY_FAULTS: Final = ("reset_mid_body", "truncate", "lie_length", "stall_body")
KINDS: Final = (*ANSWERED, "reset_before", "reset_after", *BODY_FAULTS, "slow_first_byte", "malformed")

_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "upgrade"}
)
_REASONS: Final = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
_ERROR_XML: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>injected by the fault '
    "proxy</Message><RequestId>FAULTPROXY</RequestId></Error>"
)
_CODES: Final = {429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}


@dataclass
class _Rule:
    kind: str
    method: str | None
    path: re.Pattern[str] | None
    body: re.Pattern[bytes] | None
    remaining: int

    def matches(self, method: str, target: str, body: bytes) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path is None or self.path.search(target) is not None)
            and (self.body is None or self.body.search(body) is not None)
        )


class FaultProxy:
    """A reverse proxy in front of ``upstream`` (``http://127.0.0.1:PORT``) that injects faults.

    Args:
        upstream: Base URL of the real server (plain HTTP on 127.0.0.1).
        rate: Probability that a request not matched by the schedule gets a random fault.
        kinds: The kinds drawn at random.
        seed: Seed of the random draws (runs are reproducible).
        only: Random faults only hit requests whose ``path?query`` matches this regex.
        slow_delay: Seconds ``slow_first_byte`` holds the response back.
        stall_limit: Longest a ``stall_body`` connection is held open, in seconds.
    """

    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.0,
        kinds: Iterable[str] = KINDS,
        seed: int = 0,
        only: str | None = None,
        slow_delay: float = 0.05,
        stall_limit: float = 30.0,
    ) -> None:
        match = re.fullmatch(r"http://([^/:]+):(\d+)/?", upstream)
        if match is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream_host, self.upstream_port = match[1], int(match[2])
        self.rate = rate
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.only = re.compile(only) if only else None
        self.slow_delay = slow_delay
        self.stall_limit = stall_limit
        self._random = random.Random(seed)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.injected: collections.Counter[str] = collections.Counter()
        self.forwarded: list[tuple[str, str]] = []
        self.forwarded_bodies: list[bytes] = []  # the first 4 KiB of each forwarded request's body
        #: Whether to log forwarded requests (off for long runs that measure the client's memory).
        self.record = True
        self.requests = 0
        self.bytes_out = 0
        self.active_connections = 0
        self.connections_opened = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopping = False
        self._writers: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        """Base URL of the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def schedule(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        body: str | None = None,
        count: int = 1,
    ) -> None:
        """Inject ``kind`` into the next ``count`` requests matching ``method``, ``path`` and ``body``.

        ``path`` is a regex searched in ``path?query``; ``body`` a regex searched in the request body
        (e.g. ``r"Action=RunInstances"`` for the EC2 Query API, whose calls all ``POST /``).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        compiled_path = re.compile(path) if path else None
        compiled_body = re.compile(body.encode()) if body else None
        with self._lock:
            self._rules.append(_Rule(kind, method, compiled_path, compiled_body, count))

    def clear(self) -> None:
        """Drop the remaining schedule and stop random faults."""
        with self._lock:
            self._rules.clear()
            self.rate = 0.0

    def pending(self) -> int:
        """How many scheduled faults were not injected yet."""
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def reset_counters(self) -> None:
        with self._lock:
            self.injected.clear()
            self.forwarded.clear()
            self.forwarded_bodies.clear()
            self.requests = 0
            self.bytes_out = 0

    def forwarded_count(self, method: str, path: str, body: str | None = None) -> int:
        """How many requests with ``method`` matching ``path`` (and ``body``, if given) reached upstream."""
        pattern = re.compile(path)
        body_pattern = re.compile(body.encode()) if body else None
        with self._lock:
            return sum(
                1
                for (m, t), b in zip(self.forwarded, self.forwarded_bodies, strict=True)
                if m == method and pattern.search(t) and (body_pattern is None or body_pattern.search(b))
            )

    def duplicates(self, method: str = "POST") -> dict[str, int]:
        """Requests with ``method`` that reached upstream more than once (target -> count)."""
        with self._lock:
            counts = collections.Counter(t for m, t in self.forwarded if m == method)
        return {target: n for target, n in counts.items() if n > 1}

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        if self._error is not None:
            raise RuntimeError("fault proxy failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------- the machinery

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        except BaseException as exc:  # pragma: no cover - reported to start()
            self._error = exc
            self._ready.set()
            raise
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            self._stopping = True
            server.close()
            await self._drain_connections()

    async def _drain_connections(self) -> None:
        """End every connection task, including ones accepted while the proxy was stopping.

        A connection accepted just before ``server.close()`` gets its task from a callback that may run
        after any snapshot of the tasks, so this loops until no other task is left: transports are aborted
        (each task then ends through its own cleanup), and tasks still running after two seconds are
        cancelled.
        """
        current = asyncio.current_task()
        while True:
            await asyncio.sleep(0)  # let pending connection_made callbacks create their tasks
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = asyncio.all_tasks() - {current}
            if not tasks:
                return
            _, late = await asyncio.wait(tasks, timeout=2)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)

    def _pick(self, method: str, target: str, body: bytes) -> str | None:
        with self._lock:
            self.requests += 1
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(method, target, body):
                    rule.remaining -= 1
                    self._rules = [r for r in self._rules if r.remaining > 0]
                    return rule.kind
            eligible = self.rate and (self.only is None or self.only.search(target))
            if eligible and self._random.random() < self.rate:
                return self._random.choice(self.kinds)
        return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping:  # accepted while the proxy was stopping
            writer.transport.abort()
            return
        self._writers.add(writer)
        with self._lock:
            self.active_connections += 1
            self.connections_opened += 1
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the proxy is stopping: end this connection's task quietly
            pass
        finally:
            with self._lock:
                self.active_connections -= 1
            self._writers.discard(writer)
            writer.close()
            writer.transport.abort()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether the connection stays open."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
        lower = {k.lower(): v for k, v in headers}
        if lower.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(reader)
        else:
            body = await reader.readexactly(int(lower.get("content-length", "0") or 0))
        if lower.get("expect", "").lower() == "100-continue":
            pass  # httpx never sends it
        kind = self._pick(method, target, body)
        if kind in ANSWERED:
            assert kind is not None
            self._count(kind)
            await self._answer(writer, kind)
            return True
        if kind == "reset_before":
            self._count(kind)
            _reset(writer)
            return False
        status_line, out_headers, out_body = await self._forward(method, target, headers, body)
        if self.record:
            with self._lock:
                self.forwarded.append((method, target))
                self.forwarded_bodies.append(body[:4096])
        no_body = method == "HEAD" or status_line.split(" ")[1] in ("204", "304")
        if kind in BODY_FAULTS and len(out_body) < 2:
            kind = "reset_after"  # nothing to cut in half: the closest fault is a reset
        if kind == "malformed" and no_body:
            kind = "reset_after"
        if kind == "reset_after":
            self._count(kind)
            _reset(writer)
            return False
        if kind is not None:
            self._count(kind)
        if kind == "slow_first_byte":
            await asyncio.sleep(self.slow_delay)
        if kind == "malformed":
            out_body = _malformed(out_headers)
        half = out_body[: len(out_body) // 2]
        length = len(half) if kind == "lie_length" else len(out_body)
        if not no_body:
            out_headers = [(k, v) for k, v in out_headers if k.lower() != "content-length"]
            if status_line.split(" ")[1] not in ("204", "304"):
                out_headers.append(("Content-Length", str(length)))
        close = lower.get("connection", "").lower() == "close" or kind in ("truncate", "lie_length")
        if close:
            out_headers.append(("Connection", "close"))
        writer.write(_head(status_line, out_headers))
        if no_body:
            await writer.drain()
            return not close
        if kind in BODY_FAULTS:
            writer.write(half)
            await writer.drain()
            self.bytes_out += len(half)
            if kind == "reset_mid_body":
                await asyncio.sleep(0.01)
                _reset(writer)
            elif kind == "stall_body":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(), self.stall_limit)
            else:  # truncate, lie_length: clean close after the half
                writer.close()
            return False
        writer.write(out_body)
        await writer.drain()
        self.bytes_out += len(out_body)
        return not close

    async def _answer(self, writer: asyncio.StreamWriter, kind: str) -> None:
        status = int(kind[:3])
        body = _ERROR_XML.format(code=_CODES[status]).encode()
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        if kind.endswith("retry_after"):
            headers.append(("Retry-After", "0"))
        writer.write(_head(f"HTTP/1.1 {status} {_REASONS[status]}", headers) + body)
        await writer.drain()

    async def _forward(
        self, method: str, target: str, headers: list[tuple[str, ...]], body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            sent = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP and k.lower() != "expect"]
            if body or method in ("POST", "PUT", "PATCH"):
                sent.append(("Content-Length", str(len(body))))
            sent.append(("Connection", "close"))
            up_writer.write(_head(f"{method} {target} HTTP/1.1", sent) + body)
            await up_writer.drain()
            head = await up_reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status_line = lines[0]
            out = [
                (k.strip(), self._rewrite(v.strip()))
                for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            ]
            lower = {k.lower(): v for k, v in out}
            status = status_line.split(" ")[1]
            if method == "HEAD" or status in ("204", "304") or status.startswith("1"):
                data = b""
            elif lower.get("transfer-encoding", "").lower() == "chunked":
                data = await _read_chunked(up_reader)
            elif "content-length" in lower:
                data = await up_reader.readexactly(int(lower["content-length"]))
            else:
                data = await up_reader.read()
            kept = [(k, v) for k, v in out if k.lower() not in _HOP_BY_HOP or k.lower() == "content-length"]
            return status_line, kept, data
        finally:
            up_writer.transport.abort()

    def _rewrite(self, value: str) -> str:
        """Point URLs upstream hands out (Swift's ``X-Storage-Url``) at the proxy."""
        return value.replace(f"{self.upstream_host}:{self.upstream_port}", f"127.0.0.1:{self.port}")


def _head(first: str, headers: Iterable[tuple[str, ...]]) -> bytes:
    return (first + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("latin-1")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    data = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return bytes(data)
        data += await reader.readexactly(size)
        await reader.readexactly(2)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _malformed(headers: list[tuple[str, str]]) -> bytes:
    kind = next((v for k, v in headers if k.lower() == "content-type"), "").lower()
    if "json" in kind:
        return b'{"containers": [{"name": "x", "count": '
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Contents><Key>broken<'
