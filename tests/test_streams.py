"""Byte streams: upload sources in exact chunks, sizes, on-the-fly hashing, ranged reads, atomic writes."""

from __future__ import annotations

import array
import base64
import hashlib
import io
import os
import time
import tracemalloc
import zlib
from contextlib import ExitStack, aclosing
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asynccloud import _streams
from asynccloud._streams import (
    StreamHasher,
    UploadSource,
    hashed,
    is_partial_name,
    iter_source,
    read_file_range,
    register_hash_algorithm,
    source_length,
    write_stream_atomically,
)
from asynccloud.errors import ConfigurationError, DestinationExistsError, IntegrityError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.anyio

DATA = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: not a multiple of any chunk size used below


async def gather(chunks: AsyncGenerator[bytes, None]) -> list[bytes]:
    async with aclosing(chunks):
        return [chunk async for chunk in chunks]


def assert_exact_chunks(chunks: list[bytes], chunk_size: int, data: bytes) -> None:
    assert b"".join(chunks) == data
    assert all(type(chunk) is bytes for chunk in chunks)
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1])
    if chunks:
        assert 0 < len(chunks[-1]) <= chunk_size


def pieces(data: bytes, sizes: tuple[int, ...] = (1, 7, 3000, 0, 2)) -> Iterator[bytes]:
    """Cut ``data`` into irregular pieces, empty ones included."""
    pos, i = 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        yield data[pos : pos + size]
        pos += size
        i += 1


async def apieces(data: bytes) -> AsyncIterator[bytes]:
    for piece in pieces(data):
        await anyio.lowlevel.checkpoint()
        yield piece


SOURCE_KINDS = [
    "bytes",
    "bytearray",
    "memoryview",
    "str-path",
    "path",
    "open-file",
    "unbuffered-file",
    "bytesio",
    "list",
    "generator",
    "async-generator",
]


def make_source(kind: str, data: bytes, tmp_path: Path, stack: ExitStack) -> UploadSource:
    path = tmp_path / "source.bin"
    if kind in {"str-path", "path", "open-file", "unbuffered-file"}:
        path.write_bytes(data)
    if kind == "bytes":
        return data
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    if kind == "str-path":
        return str(path)
    if kind == "path":
        return path
    if kind == "open-file":
        return stack.enter_context(open(path, "rb"))
    if kind == "unbuffered-file":
        return stack.enter_context(open(path, "rb", buffering=0))
    if kind == "bytesio":
        return io.BytesIO(data)
    if kind == "list":
        return list(pieces(data))
    if kind == "generator":
        return pieces(data)
    assert kind == "async-generator"
    return apieces(data)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
@pytest.mark.parametrize("chunk_size", [1000, 4096, 1 << 20])
async def test_every_source_kind_yields_exact_chunks(kind: str, chunk_size: int, tmp_path: Path) -> None:
    with ExitStack() as stack:
        source = make_source(kind, DATA, tmp_path, stack)
        chunks = await gather(iter_source(source, chunk_size))
    assert_exact_chunks(chunks, chunk_size, DATA)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
async def test_empty_source_yields_nothing(kind: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        source = make_source(kind, b"", tmp_path, stack)
        assert await gather(iter_source(source, 8)) == []


async def test_file_objects_are_read_from_their_current_position_and_left_open(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    with open(path, "rb") as f:
        f.seek(100)
        assert b"".join(await gather(iter_source(f, 512))) == DATA[100:]
        assert not f.closed
    buffer = io.BytesIO(DATA)
    buffer.seek(10_000)
    assert await gather(iter_source(buffer, 100)) == [DATA[10_000:10_100], DATA[10_100:10_200], DATA[10_200:]]


async def test_multi_dimensional_and_typed_memoryviews_are_flattened_to_bytes() -> None:
    numbers = array.array("i", range(100))
    chunks = await gather(iter_source(memoryview(numbers), 64))
    assert_exact_chunks(chunks, 64, numbers.tobytes())
    grid = memoryview(bytes(range(24))).cast("B", (4, 6))
    assert b"".join(await gather(iter_source([grid], 5))) == bytes(range(24))


async def test_anyio_async_file_is_an_async_iterable_source(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    async with await anyio.open_file(path, "rb") as f:
        chunks = await gather(iter_source(f, 3000))
    assert_exact_chunks(chunks, 3000, DATA)


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.binary(max_size=40), max_size=25),
    chunk_size=st.integers(min_value=1, max_value=70),
    asynchronous=st.booleans(),
)
async def test_rechunking_property(parts: list[bytes], chunk_size: int, asynchronous: bool) -> None:
    async def agen() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    source: UploadSource = agen() if asynchronous else iter(parts)
    chunks = await gather(iter_source(source, chunk_size))
    assert_exact_chunks(chunks, chunk_size, b"".join(parts))


async def test_rechunking_many_small_pieces_is_linear() -> None:
    # 100,000 pieces of 20 bytes into one 2 MB chunk: a buffer of immutable ``bytes`` grown by
    # concatenation would copy ~100 GB here (minutes); a bytearray copies 2 MB.
    n, piece = 100_000, b"0123456789abcdefghij"
    started = time.perf_counter()
    chunks = await gather(iter_source((piece for _ in range(n)), 4 << 20))
    assert chunks == [piece * n]
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "source",
    [123, 4.5, None, object(), io.StringIO("text")],
    ids=["int", "float", "none", "object", "stringio"],
)
async def test_unsupported_sources_are_rejected_at_the_call(source: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot upload|text file"):
        iter_source(source)
    with pytest.raises(ConfigurationError):
        source_length(source)


async def test_text_mode_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("hello")
    with open(path) as f, pytest.raises(ConfigurationError, match=r"binary mode \('rb'\)"):
        iter_source(f)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk_size", [0, -1, True, 1.5])
async def test_chunk_size_must_be_positive_int(chunk_size: Any) -> None:
    with pytest.raises(ConfigurationError, match="chunk_size"):
        iter_source(b"data", chunk_size)


async def test_str_chunks_are_rejected_naming_the_problem() -> None:
    async def texts() -> AsyncIterator[str]:
        yield "text"

    with pytest.raises(ConfigurationError, match=r"bytes-like, got str \(encode text"):
        await gather(iter_source([b"ok", "text"]))  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="bytes-like, got str"):
        await gather(iter_source(texts()))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="bytes-like, got list"):
        await gather(iter_source([[1, 2]]))  # type: ignore[list-item]


async def test_reader_returning_text_is_rejected() -> None:
    class TextReader:
        def read(self, size: int = -1) -> str:
            return "abc"

    with pytest.raises(ConfigurationError, match=r"read\(\) returned str"):
        await gather(iter_source(TextReader()))  # type: ignore[arg-type]


async def test_missing_path_fails_while_iterating(tmp_path: Path) -> None:
    chunks = iter_source(tmp_path / "missing.bin")  # no I/O yet
    with pytest.raises(FileNotFoundError):
        await gather(chunks)


async def test_source_iterators_are_closed_when_iteration_stops_early() -> None:
    closed: list[str] = []

    async def agen() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 10
        finally:
            closed.append("async")

    def gen() -> Iterator[bytes]:
        try:
            while True:
                yield b"y" * 10
        finally:
            closed.append("sync")

    for source in (agen(), gen()):
        async with aclosing(iter_source(source, 4)) as chunks:
            async for _ in chunks:
                break
    assert closed == ["async", "sync"]


# --------------------------------------------------------------------------------------------------
# source_length
# --------------------------------------------------------------------------------------------------


async def test_source_length_of_known_sizes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    assert source_length(DATA) == len(DATA)
    assert source_length(bytearray(b"abc")) == 3
    assert source_length(memoryview(array.array("i", range(10)))) == 40
    assert source_length(str(path)) == len(DATA)
    assert source_length(path) == len(DATA)
    buffer = io.BytesIO(DATA)
    buffer.seek(44)
    assert source_length(buffer) == len(DATA) - 44
    assert buffer.tell() == 44
    with open(path, "rb") as f:
        f.read(1000)
        assert source_length(f) == len(DATA) - 1000
        assert f.tell() == 1000
        f.seek(0, io.SEEK_END)
        f.seek(50, io.SEEK_CUR)  # past the end
        assert source_length(f) == 0


async def test_source_length_unknown_for_streams(tmp_path: Path) -> None:
    class Reader:
        def read(self, size: int = -1) -> bytes:
            return b""

    async def agen() -> AsyncGenerator[bytes, None]:
        yield b"x"

    stream = agen()
    assert source_length(iter([b"x"])) is None
    assert source_length([b"x"]) is None
    assert source_length(stream) is None
    await stream.aclose()
    assert source_length(Reader()) is None  # type: ignore[arg-type]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        assert source_length(fifo) is None


async def test_source_length_of_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        source_length(tmp_path / "missing")


# --------------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------------


async def test_hashed_passes_chunks_through_and_digests_equal_hashlib() -> None:
    hasher = StreamHasher("md5", "SHA256", "md5")
    chunks = await gather(hashed(iter_source(pieces(DATA), 1000), hasher))
    assert b"".join(chunks) == DATA
    assert hasher.algorithms == ("md5", "sha256")
    assert hasher.size == len(DATA)
    assert hasher.hexdigest("md5") == hashlib.md5(DATA).hexdigest()
    assert hasher.digest("sha256") == hashlib.sha256(DATA).digest()
    assert hasher.hexdigest("SHA256") == hashlib.sha256(DATA).hexdigest()
    assert hasher.b64digest("md5") == base64.b64encode(hashlib.md5(DATA).digest()).decode()


async def test_hasher_accepts_any_bytes_like_and_counts_bytes() -> None:
    hasher = StreamHasher("sha1")
    hasher.update(bytearray(b"ab"))
    hasher.update(memoryview(array.array("i", [7])))
    assert hasher.size == 6
    assert hasher.hexdigest("sha1") == hashlib.sha1(b"ab" + array.array("i", [7]).tobytes()).hexdigest()
    assert StreamHasher().size == 0


async def test_hasher_errors_are_clear() -> None:
    with pytest.raises(ConfigurationError, match="unknown hash algorithm 'nope'"):
        StreamHasher("nope")
    with pytest.raises(ConfigurationError, match="no fixed digest size"):
        StreamHasher("shake_128")
    with pytest.raises(ConfigurationError, match=r"'sha256' is not being computed \(have: md5\)"):
        StreamHasher("md5").digest("sha256")


async def test_hash_plugins_can_be_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_streams, "_HASH_PLUGINS", {})

    class Crc32:
        def __init__(self) -> None:
            self.value = 0

        def update(self, data: Any, /) -> None:
            self.value = zlib.crc32(data, self.value)

        def digest(self) -> bytes:
            return self.value.to_bytes(4, "big")

    register_hash_algorithm("CRC32", Crc32)
    hasher = StreamHasher("crc32", "md5")
    await gather(hashed(iter_source(DATA, 999), hasher))
    assert hasher.hexdigest("crc32") == f"{zlib.crc32(DATA):08x}"


async def test_hashed_closes_the_wrapped_stream_when_closed_early() -> None:
    closed = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"z"
        finally:
            closed.append(True)

    async with aclosing(hashed(endless(), StreamHasher("md5"))) as chunks:
        async for _ in chunks:
            break
    assert closed == [True]


# --------------------------------------------------------------------------------------------------
# read_file_range
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "chunk_size"),
    [
        (0, None, 1000),
        (0, None, 1 << 20),
        (5, 10, 2),
        (1, 10_001, 4096),
        (10_000, 20_000, 100),  # end past the end of the file
        (len(DATA), None, 10),  # nothing left
        (len(DATA) + 50, None, 10),  # start past the end
        (7, 7, 10),  # empty range
    ],
)
async def test_read_file_range(tmp_path: Path, start: int, end: int | None, chunk_size: int) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    chunks = await gather(read_file_range(path, start, end, chunk_size=chunk_size))
    assert_exact_chunks(chunks, chunk_size, DATA[start:end])


async def test_read_file_range_validates_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="start must be >= 0"):
        read_file_range(tmp_path / "x", -1)
    with pytest.raises(ConfigurationError, match="end must be >= start"):
        read_file_range(tmp_path / "x", 10, 5)
    with pytest.raises(ConfigurationError, match="chunk_size"):
        read_file_range(tmp_path / "x", chunk_size=0)


# --------------------------------------------------------------------------------------------------
# write_stream_atomically
# --------------------------------------------------------------------------------------------------


async def agen_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        await anyio.lowlevel.checkpoint()
        yield data[i : i + size]


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_write_creates_dest_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    written = await write_stream_atomically(agen_of(DATA), dest, overwrite=False, expected_size=len(DATA))
    assert written == len(DATA)
    assert dest.read_bytes() == DATA
    assert listing(tmp_path) == ["out.bin"]


async def test_write_with_fsync(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    assert await write_stream_atomically(agen_of(DATA), str(dest), overwrite=True, fsync=True) == len(DATA)
    assert dest.read_bytes() == DATA


async def test_data_goes_to_a_partial_file_until_complete(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    async def watching() -> AsyncIterator[bytes]:
        yield b"first"
        seen.append(listing(tmp_path))
        yield b"second"

    await write_stream_atomically(watching(), tmp_path / "out.bin", overwrite=False)
    [[partial]] = seen
    assert is_partial_name(partial)
    assert partial.startswith(".out.bin.")
    assert (tmp_path / "out.bin").read_bytes() == b"firstsecond"
    assert not is_partial_name("out.bin")
    assert not is_partial_name(".hidden")
    assert not is_partial_name(".x.part")


async def test_overwrite_false_refuses_existing_dest_without_reading_the_stream(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    consumed = []

    async def stream() -> AsyncIterator[bytes]:
        consumed.append(True)
        yield b"new"

    source = stream()
    with pytest.raises(DestinationExistsError):
        await write_stream_atomically(source, dest, overwrite=False)
    assert consumed == []
    with pytest.raises(StopAsyncIteration):
        await source.__anext__()  # it was closed
    assert dest.read_bytes() == b"old"
    assert listing(tmp_path) == ["out.bin"]


async def test_overwrite_false_does_not_clobber_a_file_that_appears_meanwhile(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"

    async def racing() -> AsyncIterator[bytes]:
        yield b"mine"
        dest.write_bytes(b"theirs")
        yield b"more"

    with pytest.raises(DestinationExistsError):
        await write_stream_atomically(racing(), dest, overwrite=False)
    assert dest.read_bytes() == b"theirs"
    assert listing(tmp_path) == ["out.bin"]


async def test_overwrite_true_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old content that is longer")
    assert await write_stream_atomically(agen_of(b"new"), dest, overwrite=True) == 3
    assert dest.read_bytes() == b"new"
    assert listing(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("existing", [False, True])
async def test_failure_mid_stream_keeps_nothing(tmp_path: Path, existing: bool) -> None:
    dest = tmp_path / "out.bin"
    if existing:
        dest.write_bytes(b"old")

    async def failing() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        yield b"b" * 1000
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        await write_stream_atomically(failing(), dest, overwrite=True)
    assert listing(tmp_path) == (["out.bin"] if existing else [])
    if existing:
        assert dest.read_bytes() == b"old"


@pytest.mark.parametrize("existing", [False, True])
async def test_cancellation_mid_stream_keeps_nothing(tmp_path: Path, existing: bool) -> None:
    dest = tmp_path / "out.bin"
    if existing:
        dest.write_bytes(b"old")
    started = anyio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        started.set()
        await anyio.sleep_forever()
        yield b"never"

    with anyio.move_on_after(5) as deadline:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: write_stream_atomically(stalling(), dest, overwrite=True))
            await started.wait()
            assert len(listing(tmp_path)) == (2 if existing else 1)  # the partial file exists now
            tg.cancel_scope.cancel()
    assert not deadline.cancelled_caught
    assert listing(tmp_path) == (["out.bin"] if existing else [])
    if existing:
        assert dest.read_bytes() == b"old"


async def test_short_stream_fails_size_check(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    with pytest.raises(IntegrityError, match="ended after 3 of the expected 10 bytes"):
        await write_stream_atomically(agen_of(b"abc"), dest, overwrite=True, expected_size=10)
    assert listing(tmp_path) == []


async def test_long_stream_fails_as_soon_as_it_overflows(tmp_path: Path) -> None:
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"x" * 4

    with pytest.raises(IntegrityError, match="longer than the expected 10 bytes"):
        await write_stream_atomically(endless(), tmp_path / "out.bin", overwrite=True, expected_size=10)
    assert produced == 3
    assert listing(tmp_path) == []


async def test_check_hook_can_reject_the_data(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    hasher = StreamHasher("md5")
    sizes: list[int] = []

    def verify(size: int) -> None:
        sizes.append(size)
        if hasher.hexdigest("md5") != "0" * 32:
            raise IntegrityError("MD5 mismatch")

    with pytest.raises(IntegrityError, match="MD5 mismatch"):
        await write_stream_atomically(hashed(agen_of(DATA), hasher), dest, overwrite=True, check=verify)
    assert sizes == [len(DATA)]
    assert listing(tmp_path) == []


async def test_missing_directory_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await write_stream_atomically(agen_of(b"x"), tmp_path / "no" / "out.bin", overwrite=True)
    assert listing(tmp_path) == []


async def test_long_destination_names_get_valid_temporary_names(tmp_path: Path) -> None:
    dest = tmp_path / ("n" * 250)
    await write_stream_atomically(agen_of(b"data"), dest, overwrite=False)
    assert dest.read_bytes() == b"data"


async def test_memory_stays_flat_for_large_streams(tmp_path: Path) -> None:
    chunk_size = 256 * 1024
    total = 64 * chunk_size  # 16 MiB
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for i in range(64):
            f.write(bytes([i]) * chunk_size)
    hasher = StreamHasher("md5")
    measure: Callable[[], tuple[int, int]] = tracemalloc.get_traced_memory
    tracemalloc.start()
    try:
        written = await write_stream_atomically(
            hashed(iter_source(src, chunk_size), hasher), tmp_path / "copy.bin", overwrite=False
        )
        _, peak = measure()
    finally:
        tracemalloc.stop()
    assert written == total
    assert peak < 6 * chunk_size, f"peak {peak} bytes for a {total}-byte copy"
    assert (tmp_path / "copy.bin").stat().st_size == total


async def test_keep_partial_keeps_failed_data_beside_dest(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    (tmp_path / "out.bin.part").write_bytes(b"older partial")
    with pytest.raises(IntegrityError):
        await write_stream_atomically(
            agen_of(b"short"), dest, overwrite=False, expected_size=10, keep_partial=True
        )
    assert listing(tmp_path) == ["out.bin.part"]
    assert (tmp_path / "out.bin.part").read_bytes() == b"short"


async def test_keep_partial_keeps_data_of_a_cancelled_write(tmp_path: Path) -> None:
    async def stalling() -> AsyncIterator[bytes]:
        yield b"got this far"
        await anyio.sleep_forever()
        yield b"never"

    with anyio.move_on_after(0.05):
        await write_stream_atomically(stalling(), tmp_path / "out", overwrite=True, keep_partial=True)
    assert listing(tmp_path) == ["out.part"]
    assert (tmp_path / "out.part").read_bytes() == b"got this far"


async def test_keep_partial_has_nothing_to_keep_when_nothing_was_written(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    with pytest.raises(DestinationExistsError):
        await write_stream_atomically(agen_of(b"new"), dest, overwrite=False, keep_partial=True)
    assert listing(tmp_path) == ["out"]
    await write_stream_atomically(agen_of(b"new"), dest, overwrite=True, keep_partial=True)
    assert listing(tmp_path) == ["out"]
    assert dest.read_bytes() == b"new"
