"""Part uploads: bounded concurrency and memory, ordered results, first error raised as itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from asynccloud._transfers import first_part, upload_parts
from asynccloud.errors import ConfigurationError, ServerError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio


class Source:
    """Parts on demand, counting how many were read before being released."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.read = 0
        self.closed = False

    async def parts(self) -> AsyncIterator[bytes]:
        try:
            for i in range(self.count):
                self.read += 1
                yield bytes([i % 256]) * 10
        finally:
            self.closed = True


async def test_parts_are_uploaded_in_order_with_bounded_concurrency() -> None:
    source = Source(40)
    done: list[int] = []
    in_flight = 0
    peak = 0
    peak_held = 0

    async def upload(number: int, data: bytes) -> str:
        nonlocal in_flight, peak, peak_held
        in_flight += 1
        peak = max(peak, in_flight)
        peak_held = max(peak_held, source.read - len(done))  # parts read and not yet finished
        await anyio.sleep(0.001 * (number % 3))
        in_flight -= 1
        done.append(number)
        return f"etag-{number}-{data[0]}"

    results = await upload_parts(source.parts(), upload, max_concurrency=4)
    assert results == [f"etag-{n}-{(n - 1) % 256}" for n in range(1, 41)]
    assert peak == 4
    assert peak_held <= 4  # never more parts read than slots: the memory bound
    assert source.closed


async def test_first_error_is_raised_as_itself_and_others_are_cancelled() -> None:
    source = Source(100)
    cancelled = 0

    async def upload(number: int, data: bytes) -> int:
        nonlocal cancelled
        if number == 3:
            raise ServerError("part 3 failed", provider="test", status=500)
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        return number

    with pytest.raises(ServerError, match="part 3 failed"):
        await upload_parts(source.parts(), upload, max_concurrency=5, settle=0.05)
    assert cancelled >= 1  # parts still running after the settle time are cancelled
    assert source.read < 100  # stopped reading once a part failed
    assert source.closed


async def test_parts_in_flight_finish_before_the_failure_is_raised() -> None:
    # A part cancelled mid-request may still land on the server after the caller's clean-up ran; letting
    # the parts in flight finish tells the caller exactly what landed.
    source = Source(100)
    started: list[int] = []
    finished: list[int] = []
    all_in_flight = anyio.Event()

    async def upload(number: int, data: bytes) -> int:
        started.append(number)
        if len(started) == 4:
            all_in_flight.set()
        if number == 2:
            await all_in_flight.wait()
            raise ServerError("part 2 failed", provider="test", status=500)
        await anyio.sleep(0.05)
        finished.append(number)
        return number

    with pytest.raises(ServerError, match="part 2 failed"):
        await upload_parts(source.parts(), upload, max_concurrency=4)
    assert sorted(started) == [1, 2, 3, 4]  # nothing started after the failure
    assert sorted(finished) == [1, 3, 4]  # what was in flight finished
    assert source.read <= 5
    assert source.closed


async def test_outer_cancellation_propagates() -> None:
    source = Source(10)

    async def upload(number: int, data: bytes) -> int:
        await anyio.sleep(10)
        return number

    with anyio.move_on_after(0.05) as scope:
        await upload_parts(source.parts(), upload, max_concurrency=2)
    assert scope.cancelled_caught
    assert source.closed


async def test_empty_stream_and_bad_concurrency() -> None:
    async def upload(number: int, data: bytes) -> int:
        return number

    assert await upload_parts(Source(0).parts(), upload, max_concurrency=2) == []
    with pytest.raises(ConfigurationError):
        await upload_parts(Source(1).parts(), upload, max_concurrency=0)


async def test_first_part_looks_ahead() -> None:
    single = await first_part(Source(1).parts())
    assert (single.data, single.more) == (b"\x00" * 10, False)
    assert [p async for p in single.rest] == []
    source = Source(3)
    multi = await first_part(source.parts())
    assert multi.more
    assert [p[0] async for p in multi.rest] == [1, 2]
    assert source.closed
    empty = await first_part(Source(0).parts())
    assert (empty.data, empty.more) == (b"", False)


_released: list[bytes] = []


class _Part(bytes):
    """A part that reports when it is freed."""

    def __del__(self) -> None:
        _released.append(bytes(self[:1]))


async def test_a_finished_part_is_released_while_the_next_one_is_read() -> None:
    import gc

    _released.clear()
    uploaded = anyio.Event()
    released_before_second: list[bytes] = []

    class Parts:
        """A plain async iterator (no generator frame of its own that could hold a part)."""

        def __init__(self) -> None:
            self.count = 0

        def __aiter__(self) -> Parts:
            return self

        async def __anext__(self) -> bytes:
            self.count += 1
            if self.count == 1:
                return _Part(b"1" * 100)
            if self.count == 2:
                await uploaded.wait()  # part 1 is done; upload_parts is waiting for part 2
                gc.collect()
                released_before_second.extend(_released)
                return _Part(b"2")
            raise StopAsyncIteration

    async def upload(number: int, data: bytes) -> int:
        if number == 1:
            uploaded.set()
        return number

    assert await upload_parts(Parts(), upload, max_concurrency=2) == [1, 2]
    assert released_before_second == [b"1"]  # part 1 was not kept alive while part 2 was read
